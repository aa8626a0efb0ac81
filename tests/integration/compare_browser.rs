//! `conform compare`'s report.html in headless Chromium, run by the `clients` harness (ignored
//! with the reason when chromium is missing, a failure under `CI`): a leaderboard row per
//! metric, an interval plot per metric, a point per difference.

use crate::support::{compare, compare_args};
use std::path::Path;

pub fn the_html_leaderboard_renders_in_a_headless_browser() {
    let bin = crate::report_browser::CHROMIUM;
    let dir = tempfile::tempdir().unwrap();
    let c = compare(&compare_args(
        "mock",
        &["mock:seed=5", "mock:seed=6,tool-skill=0.4"],
        8,
        dir.path(),
    ));
    let (dom, _) = crate::report_browser::browse(
        Path::new(bin),
        &dir.path().join("report.html"),
        &["--virtual-time-budget=1000", "--dump-dom"],
    );
    let metrics = c.results.len() / c.targets.len();
    let table = &dom[dom
        .find("id=\"leaderboard\"")
        .expect("the leaderboard table")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(
        table.matches("<tr>").count(),
        metrics + 1,
        "a row per metric"
    );
    assert_eq!(
        table.matches("<svg").count(),
        metrics,
        "an interval plot per metric"
    );
    assert_eq!(
        table.matches("<circle").count(),
        c.results.iter().filter(|r| r.diff.is_some()).count()
    );
}
