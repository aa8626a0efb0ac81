//! `conform merge REPORT.json…`: one report from the shards of a partitioned run
//! (`conform run --partition k/n` in a CI matrix). Results, targets and stop reasons are
//! united; each shard's recorded exchanges (the `exchanges/` beside its report.json) are
//! appended to the merged report's, so evidence and repros work as in an unpartitioned run.
//!
//! The inputs are checked first ([`check_shards`]): the same file twice, two reports of the
//! same shard, or two reports holding the same result are refused; shards of different
//! partitionings are refused; a missing shard (`1/3` and `2/3` without `3/3`) is an error unless
//! `--partial`, and then a warning.

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
    /// Merge although some shards are missing (a warning names them).
    #[arg(long)]
    pub partial: bool,
}

/// A merge that could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MergeError {
    #[error("{0}")]
    Read(io::Error),
    /// The inputs are not the shards of one run.
    #[error("{0}")]
    Shards(String),
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
    match merge_files(&a.reports, &a.report_dir, a.partial) {
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
        Err(e @ MergeError::Shards(_)) => {
            eprintln!("error: {e}");
            crate::exit::USAGE
        }
        Err(e) => {
            eprintln!("error: {e}");
            crate::exit::INFRA
        }
    }
}

/// Whether `shards` (read from `paths`) are different shards of one run; the warning to print
/// when some are missing and `partial` allows it.
pub(crate) fn check_shards(
    paths: &[PathBuf],
    shards: &[RunReport],
    partial: bool,
) -> Result<Option<String>, MergeError> {
    let refuse = |m: String| Err(MergeError::Shards(m));
    // The same file twice.
    for (i, p) in paths.iter().enumerate() {
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        if let Some(q) = paths[..i].iter().find(|q| canon(q) == canon(p)) {
            return refuse(format!(
                "{} is given twice ({} and {}): each shard is merged once",
                p.display(),
                q.display(),
                p.display()
            ));
        }
    }
    // Two reports of one shard.
    let mut seen: std::collections::BTreeMap<super::model::Shard, &Path> = Default::default();
    for (p, s) in paths.iter().zip(shards) {
        if let Some(k) = s.shard
            && let Some(q) = seen.insert(k, p)
        {
            return refuse(format!(
                "{} and {} are both shard {}/{}: each shard is merged once",
                q.display(),
                p.display(),
                k.index,
                k.count
            ));
        }
    }
    // Two reports that hold the same result (older reports carry no shard).
    let mut held: std::collections::BTreeMap<String, &Path> = Default::default();
    for (p, s) in paths.iter().zip(shards) {
        for r in &s.results {
            let key = r.case_id().to_string();
            if let Some(q) = held.insert(key.clone(), p)
                && q != p.as_path()
            {
                return refuse(format!(
                    "{} and {} both hold the result {key}: they are not different shards of one run",
                    q.display(),
                    p.display()
                ));
            }
        }
    }
    let counts: std::collections::BTreeSet<u32> = seen.keys().map(|k| k.count).collect();
    if counts.len() > 1 {
        let list: Vec<String> = counts.iter().map(|n| format!("…/{n}")).collect();
        return refuse(format!(
            "the reports are shards of different partitionings ({}): merge the shards of one run",
            list.join(", ")
        ));
    }
    let Some(&count) = counts.iter().next() else {
        return Ok(None);
    };
    let missing: Vec<String> = (1..=count)
        .filter(|i| !seen.keys().any(|k| k.index == *i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let given: Vec<String> = seen
        .keys()
        .map(|k| format!("{}/{}", k.index, k.count))
        .collect();
    let what = format!(
        "shard {} missing (given: {})",
        missing.join(", "),
        given.join(", ")
    );
    if partial {
        Ok(Some(format!(
            "warning: {what}; the merged report holds only the shards given (--partial)"
        )))
    } else {
        refuse(format!(
            "{what}: a merged report without it would look complete; pass its report.json, or --partial to merge anyway"
        ))
    }
}

/// Read the shards, check that they are the shards of one run ([`check_shards`]), merge them,
/// copy their exchanges and write the reports into `dir`.
pub(crate) fn merge_files(
    paths: &[PathBuf],
    dir: &Path,
    partial: bool,
) -> Result<RunReport, MergeError> {
    let shards = paths
        .iter()
        .map(|p| super::json::read_report(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(MergeError::Read)?;
    if let Some(warning) = check_shards(paths, &shards, partial)? {
        eprintln!("{warning}");
    }
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
