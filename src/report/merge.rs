//! `conform merge REPORT.json…`: one report from the shards of a partitioned run
//! (`conform run --partition k/n` in a CI matrix). Results, targets and stop reasons are
//! united; each shard's recorded exchanges (the `exchanges/` beside its report.json) are
//! appended to the merged report's, so evidence and repros work as in an unpartitioned run.

use super::model::RunReport;
use crate::secrets::Redactor;
use std::io;
use std::path::{Path, PathBuf};

/// Arguments of `conform merge`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct MergeArgs {
    /// The shards' report.json files.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Where the merged report.md, report.json, junit.xml and exchanges/ go.
    #[arg(long, default_value = "reports")]
    pub report_dir: PathBuf,
}

/// A merge that could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MergeError {
    #[error("{0}")]
    Read(io::Error),
    #[error("writing {dir}: {source}")]
    Write { dir: String, source: io::Error },
}

/// Merge the shards' reports (read from disk) into one.
pub(crate) fn merge(shards: &[RunReport]) -> RunReport {
    let mut targets = Vec::new();
    let mut out = RunReport::started_at(
        shards
            .iter()
            .map(|s| s.started_at.clone())
            .min()
            .unwrap_or_default(),
        Vec::new(),
    );
    for s in shards {
        for t in &s.targets {
            if !targets
                .iter()
                .any(|x: &super::model::TargetInfo| x.name == t.name)
            {
                targets.push(t.clone());
            }
        }
        out.results.extend(s.results.iter().cloned());
        out.planned += s.planned;
        out.interrupted |= s.interrupted;
        out.duration_ms = out.duration_ms.max(s.duration_ms);
        out.stopped.extend(s.stopped.iter().cloned());
        out.paused.extend(s.paused.iter().cloned());
        out.documented.extend(s.documented.iter().cloned());
    }
    if let Some(first) = shards.first() {
        out.conform_version = first.conform_version.clone();
    }
    out.targets = targets;
    // The order of an unpartitioned run: targets as given, then scenario and mode.
    let order: Vec<String> = out.targets.iter().map(|t| t.name.clone()).collect();
    out.results.sort_by(|a, b| {
        let ta = order.iter().position(|n| *n == a.target);
        let tb = order.iter().position(|n| *n == b.target);
        (ta, &a.scenario, &a.mode).cmp(&(tb, &b.scenario, &b.mode))
    });
    out.update_summary();
    out
}

/// Run `conform merge`; returns the exit code (that of the merged run: 0, 1 or 3).
pub(crate) fn run_cli(a: &MergeArgs) -> i32 {
    match merge_files(&a.reports, &a.report_dir) {
        Ok(r) => {
            eprintln!(
                "merged {} report(s), {} results, into {}",
                a.reports.len(),
                r.results.len(),
                a.report_dir.join(super::markdown::FILE_NAME).display()
            );
            r.exit_code(false)
        }
        Err(MergeError::Read(e)) => {
            eprintln!("error: {e}");
            crate::exit::USAGE
        }
        Err(e) => {
            eprintln!("error: {e}");
            crate::exit::INFRA
        }
    }
}

/// Read the shards, merge them, copy their exchanges and write the reports into `dir`.
pub(crate) fn merge_files(paths: &[PathBuf], dir: &Path) -> Result<RunReport, MergeError> {
    let shards = paths
        .iter()
        .map(|p| super::json::read_report(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(MergeError::Read)?;
    let merged = merge(&shards);
    let write = |source| MergeError::Write {
        dir: dir.display().to_string(),
        source,
    };
    let exchanges = dir.join("exchanges");
    std::fs::create_dir_all(&exchanges).map_err(write)?;
    let mut started = std::collections::BTreeSet::new();
    for p in paths {
        let from = p.parent().unwrap_or(Path::new(".")).join("exchanges");
        let Ok(entries) = std::fs::read_dir(&from) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files
            .iter()
            .filter(|f| f.extension().is_some_and(|x| x == "ndjson"))
        {
            let name = f.file_name().unwrap_or_default().to_os_string();
            let to = exchanges.join(&name);
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(started.contains(&name))
                .write(true)
                .truncate(!started.contains(&name))
                .open(&to)
                .map_err(write)?;
            started.insert(name);
            let mut input = std::fs::File::open(f).map_err(write)?;
            io::copy(&mut input, &mut out).map_err(write)?;
        }
    }
    let evidence = super::causes::EvidenceIndex::from_recordings(dir, &merged.results);
    super::write_all(&merged, dir, &Redactor::default(), &evidence).map_err(write)?;
    Ok(merged)
}
