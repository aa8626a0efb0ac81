//! The sinks of a run ([`crate::run::Sink`]): every output is built from the run's events —
//! the exchange files ([`ExchangeSink`]), the report files with their evidence
//! ([`ReportSink`]), and the progress display ([`ProgressSink`]).

pub(crate) mod exchanges;
pub(crate) mod files;
pub(crate) mod progress;

pub(crate) use exchanges::ExchangeSink;
pub(crate) use files::ReportSink;
pub(crate) use progress::ProgressSink;

use std::path::{Path, PathBuf};

/// Where the exchanges of `target` are written under a report dir
/// (`exchanges/TARGET.ndjson`).
pub(crate) fn exchange_file(report_dir: &Path, target: &str) -> PathBuf {
    let safe = crate::fsutil::safe_name(target, "._-");
    report_dir.join("exchanges").join(format!("{safe}.ndjson"))
}
