//! Exit codes of the `conform` binary (design §7), documented as constants.

/// Conformant, or only verdicts the target declared as expected.
pub const OK: i32 = 0;
/// At least one conformance failure (a `must` finding in `check`; fail/ignored/flaky/... in `run`).
pub const FAILURES: i32 = 1;
/// Usage, configuration or scenario-file errors; unreadable input.
pub const USAGE: i32 = 2;
/// Infrastructure errors only: nothing could be judged (endpoint unreachable, timeouts).
pub const INFRA: i32 = 3;
