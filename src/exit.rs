//! Exit codes of the `conform` binary (ARCHITECTURE.md, "Errors and exit codes"), documented
//! as constants, and the one place
//! a command's async work is run to its exit code.

/// Conformant, or only verdicts the target declared as expected.
pub const OK: i32 = 0;
/// At least one conformance failure (a `must` finding in `check`; fail/ignored/flaky/... in `run`).
pub const FAILURES: i32 = 1;
/// Usage, configuration or scenario-file errors; unreadable input.
pub const USAGE: i32 = 2;
/// Infrastructure errors only: nothing could be judged (endpoint unreachable, timeouts).
pub const INFRA: i32 = 3;

/// Interrupted by SIGINT (Ctrl-C): 128 + 2, as shells report it. Partial reports are written.
pub(crate) const SIGINT: i32 = 130;
/// Interrupted by SIGTERM (what CI timeouts send): 128 + 15. Partial reports are written.
pub(crate) const SIGTERM: i32 = 143;

/// Run a command's async body on a fresh multi-threaded runtime; a runtime that cannot start
/// is an infrastructure error.
pub(crate) fn block_on(body: impl std::future::Future<Output = i32>) -> i32 {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(body),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            INFRA
        }
    }
}
