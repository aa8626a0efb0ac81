//! The Anthropic Messages protocol: schemas, the stream grammar, the accumulator and the
//! request-implied checks.

pub(crate) mod accumulate;
pub(crate) mod grammar;
pub(crate) mod implied;
pub(crate) mod judge;
pub(crate) mod refs;
pub(crate) mod schema;
pub(crate) mod semantics;
pub(crate) mod stream;
pub(crate) mod validate;
pub(crate) mod wire;

/// The documented optional top-level parameters of a Messages request that an endpoint may
/// ignore but must not reject (`request.documented-field-rejected`; the reference server's
/// `ignored-fields-rejected` fault rejects the first it finds, in this order).
pub(crate) const DOCUMENTED_OPTIONAL: [&str; 5] = [
    "service_tier",
    "container",
    "mcp_servers",
    "inference_geo",
    "metadata",
];
