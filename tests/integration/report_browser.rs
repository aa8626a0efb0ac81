//! report.html in a real headless browser (Debian's chromium), run by the `clients` harness
//! (tests/clients.rs: ignored with the reason when chromium is missing, a failure under `CI`):
//! matrix cells, a click-through from a cell to its results, no external request, no console
//! error, a screenshot (target/tmp/report-screenshot.png).

use conform::reports;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser (Debian's chromium package).
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";

/// The faults of the run the page is made from (those of report_outputs.rs).
const FAULTS: [&str; 6] = [
    "no-signature",
    "stop-sequence-ignored",
    "models-missing",
    "no-request-id",
    "extra-fields",
    "no-ping",
];

/// Run headless chromium on `page` with `extra` flags, with a throw-away profile and every
/// host name unresolvable (no request leaves the machine); (stdout, stderr).
pub(crate) fn browse(bin: &Path, page: &Path, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(format!("file://{}", page.display()));
    let out = cmd.output().expect("run chromium");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Clicks the `models` sync cell, then records what the page shows into `<body data-…>`.
const PROBE: &str = r##"<script>
(function () {
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message)); });
  var orig = console.error;
  console.error = function () { errors.push(Array.prototype.join.call(arguments, " ")); orig.apply(console, arguments); };
  window.addEventListener("load", function () {
    var cell = document.querySelector('td.cell[data-feature="models"][data-mode="sync"]');
    cell.click();
    var shown = document.querySelectorAll("#results-table tr.result:not(.hidden)");
    var names = Array.prototype.map.call(shown, function (tr) { return tr.children[2].textContent; });
    document.body.setAttribute("data-probe-cells", String(document.querySelectorAll("table.matrix td.cell").length));
    document.body.setAttribute("data-probe-shown", names.join(","));
    document.body.setAttribute("data-probe-selection", document.getElementById("selection").textContent);
    document.body.setAttribute("data-probe-resources", String(performance.getEntriesByType("resource").length));
    location.hash = "#d1";
    setTimeout(function () {
      document.body.setAttribute("data-probe-d1-open", String(document.getElementById("d1").open));
      document.body.setAttribute("data-probe-errors", errors.join(" | ") || "none");
    }, 50);
  });
})();
</script>"##;

pub(crate) fn report_html_in_a_headless_browser() {
    let bin = PathBuf::from(CHROMIUM);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut args = vec!["run", "--no-snapshots", "--quiet", "--report-dir", d];
    for f in FAULTS {
        args.extend(["--mock-fault", f]);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run conform");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let page = dir.path().join("probe.html");
    std::fs::write(&page, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    let (dom, log) = browse(&bin, &page, &["--virtual-time-budget=2000", "--dump-dom"]);
    let attr = |name: &str| {
        let key = format!("data-probe-{name}=\"");
        let at = dom
            .find(&key)
            .unwrap_or_else(|| panic!("no {key} in the DOM:\n{}", &dom[..dom.len().min(2000)]));
        let rest = &dom[at + key.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    };
    let r = reports::read_report(&dir.path().join("report.json")).unwrap();
    let features = r.features().len();
    let cells: usize = attr("cells").parse().unwrap();
    assert_eq!(cells, features * 2, "a cell per feature × mode");
    let shown = attr("shown");
    let expected: Vec<String> = {
        let mut v: Vec<String> = r
            .results
            .iter()
            .filter(|x| x.feature == "models" && x.mode == conform::Mode::Sync)
            .map(|x| x.case_name())
            .collect();
        v.sort();
        v
    };
    let mut got: Vec<String> = shown.split(',').map(str::to_string).collect();
    got.sort();
    assert_eq!(got, expected, "the click shows the cell's results only");
    assert!(
        attr("selection").contains("models on reference (sync)"),
        "{}",
        attr("selection")
    );
    assert_eq!(attr("resources"), "0", "no external requests");
    assert_eq!(
        attr("d1-open"),
        "true",
        "a link to a deviation opens its evidence"
    );
    assert_eq!(attr("errors"), "none");
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console output: {console:?}");
    // The screenshot CI keeps (look at it: target/report-screenshot.png).
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let plain = dir.path().join("report.html");
    browse(
        &bin,
        &plain,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
        ],
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
}
