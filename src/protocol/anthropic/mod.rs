//! The Anthropic Messages protocol: schemas, the stream grammar, the accumulator and the
//! request-implied checks.
pub mod schema;
