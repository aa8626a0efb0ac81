//! The Anthropic Messages protocol: schemas, the stream grammar, the accumulator and the
//! request-implied checks.

pub mod accumulate;
pub mod grammar;
pub mod implied;
pub mod judge;
pub mod refs;
pub mod schema;
pub mod semantics;
pub mod stream;
pub mod validate;
pub mod wire;
