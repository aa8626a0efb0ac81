//! What varies from one run of a client to the next, replaced by fixed values so that a
//! captured scenario is the same file whoever captures it, wherever and whenever: the working
//! directory and HOME the client ran in, the day's date, UUIDs (session ids), 64-digit hex
//! ids (device ids), `toolu_…` tool-use ids the client passes back on its own, and the ids in
//! `metadata.user_id`. The model is not here: [`super::shape`] templates it.

use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The working directory, as written in captured files.
pub(crate) const CWD: &str = "/home/user/project";
/// HOME, as written in captured files.
pub(crate) const HOME: &str = "/home/user";
/// The day of the capture, as written in captured files.
pub(crate) const DATE: &str = "2026-01-01";
/// Every UUID, as written in captured files.
const UUID: &str = "00000000-0000-4000-8000-000000000000";

static UUID_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
        .unwrap_or_else(|e| unreachable!("a fixed pattern: {e}"))
});
static HEX64_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{64}\b").unwrap_or_else(|e| unreachable!("a fixed pattern: {e}"))
});
/// `mktemp -d`'s directories (`/tmp/tmp.XXXXXXXXXX`), where a sandboxed client usually runs.
static MKTEMP_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"/tmp/tmp\.[A-Za-z0-9]{6,}")
        .unwrap_or_else(|e| unreachable!("a fixed pattern: {e}"))
});

/// The volatile values of one capture.
pub(crate) struct Volatile {
    /// (path, what it becomes), longest first: a HOME inside the working directory or the
    /// other way round is replaced by the more specific one.
    paths: Vec<(String, &'static str)>,
    /// The dates of the capture (`YYYY-MM-DD`).
    dates: Vec<String>,
    /// Tool-use ids the client sent on its own → `toolu_capture_NN`, in order of appearance.
    tool_ids: BTreeMap<String, String>,
}

impl Volatile {
    /// The volatile values of a client run in `cwd` with `home` (either may be unknown).
    pub(crate) fn new(cwd: Option<&str>, home: Option<&str>) -> Volatile {
        let mut paths: Vec<(String, &'static str)> = Vec::new();
        for (p, to) in [(cwd, CWD), (home, HOME)] {
            if let Some(p) = p.map(|p| p.trim_end_matches('/'))
                && p.len() > 1
            {
                paths.push((p.to_string(), to));
                // The same directory through a symlink (macOS /tmp → /private/tmp).
                if let Ok(real) = std::fs::canonicalize(p)
                    && let Some(real) = real.to_str()
                    && real != p
                {
                    paths.push((real.to_string(), to));
                }
            }
        }
        paths.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        // Yesterday, today and tomorrow in UTC: today wherever the client's clock is.
        let today = time::OffsetDateTime::now_utc().date();
        let mut dates = Vec::new();
        for d in [today.previous_day(), Some(today), today.next_day()]
            .into_iter()
            .flatten()
        {
            dates.push(format!(
                "{:04}-{:02}-{:02}",
                d.year(),
                u8::from(d.month()),
                d.day()
            ));
        }
        Volatile {
            paths,
            dates,
            tool_ids: BTreeMap::new(),
        }
    }

    /// A text with its volatile parts replaced.
    pub(crate) fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (p, to) in &self.paths {
            if out.contains(p.as_str()) {
                out = out.replace(p.as_str(), to);
            }
        }
        out = MKTEMP_RE.replace_all(&out, CWD).into_owned();
        for d in &self.dates {
            if out.contains(d.as_str()) {
                out = out.replace(d.as_str(), DATE);
            }
        }
        out = UUID_RE.replace_all(&out, UUID).into_owned();
        HEX64_RE
            .replace_all(&out, "0".repeat(64).as_str())
            .into_owned()
    }

    /// Every string of a JSON value through [`Volatile::text`] (keys too).
    pub(crate) fn value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (self.text(k), self.value(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// The fixed stand-in of a tool-use id the client sent without an earlier answer to
    /// capture it from: the same id always gets the same stand-in.
    pub(crate) fn tool_id(&mut self, id: &str) -> String {
        let next = self.tool_ids.len() + 1;
        self.tool_ids
            .entry(id.to_string())
            .or_insert_with(|| format!("toolu_capture_{next:02}"))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_dates_uuids_and_device_ids_are_fixed() {
        let v = Volatile::new(Some("/tmp/tmp.AbCdEf1234"), Some("/tmp/h/"));
        let today = time::OffsetDateTime::now_utc().date();
        let day = format!(
            "{:04}-{:02}-{:02}",
            today.year(),
            u8::from(today.month()),
            today.day()
        );
        let s = format!(
            "cwd /tmp/tmp.AbCdEf1234/a, home /tmp/h/.claude, today {day}, on 2024-02-03, session 5e91a12c-a438-4369-bfeb-4051fd87d84f, device {}",
            "ab".repeat(32)
        );
        assert_eq!(
            v.text(&s),
            format!(
                "cwd {CWD}/a, home {HOME}/.claude, today {DATE}, on 2024-02-03, session {UUID}, device {}",
                "0".repeat(64)
            )
        );
        // Another mktemp directory than the working directory is fixed too.
        assert_eq!(v.text("/tmp/tmp.ZZZZZZZZZZ/x"), format!("{CWD}/x"));
    }

    #[test]
    fn a_tool_id_keeps_its_stand_in() {
        let mut v = Volatile::new(None, None);
        assert_eq!(v.tool_id("toolu_a"), "toolu_capture_01");
        assert_eq!(v.tool_id("toolu_b"), "toolu_capture_02");
        assert_eq!(v.tool_id("toolu_a"), "toolu_capture_01");
    }
}
