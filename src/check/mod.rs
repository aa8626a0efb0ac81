//! Checking: the finding type shared by every validator, the catalogue that declares every
//! check id, and the scenario assertion engine that reduces each assertion to one outcome shape.

pub(crate) mod assert;
pub(crate) mod catalogue;
pub(crate) mod finding;

pub(crate) use catalogue::CheckId;
pub(crate) use finding::{Finding, Severity};
