//! Tests of the scenario language as a whole: loading files, linting them, evaluating
//! assertions and templates against responses (property tests included).

mod assert;
mod fuzz;
mod lint;
mod load;
mod props;
