//! Checking: the finding type shared by every validator, and (later) the scenario assertion
//! engine that reduces each assertion to one outcome shape.

pub mod assert;
pub mod finding;

pub use finding::{Finding, Severity, worst};
