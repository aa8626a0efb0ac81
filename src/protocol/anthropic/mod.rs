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
