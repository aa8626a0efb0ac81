//! The integration tests, one binary (one link on 2 cores instead of thirty): each module
//! was a test file of its own. Three stay apart: `tests/scenarios.rs`, a libtest-mimic harness
//! that runs every scenario of the library as a test; `tests/clients.rs`, a libtest-mimic
//! harness of the tests that run a real client (the SDKs, Claude Code, chromium: its modules
//! `mock_sdk`, `proxy_sdk`, `mock_claude_code`, `client_claude_code`, `capture_claude_code`, `calibration`,
//! `third_party` and `report_browser` live here but are compiled there), which reports a test whose client is
//! missing as ignored with the reason; and `tests/snapshot_insta.rs`, which sets `INSTA_UPDATE`
//! for its whole process.

mod mock_support;
mod support;

mod api_versions;
mod architecture;
mod backpressure;
mod capture;
mod catalogue;
mod causes_first;
mod check_cli;
mod compare;
mod corpus;
mod corpus_schemas;
mod detection;
mod first_hour;
mod fuzz;
mod hardening;
mod hostile;
mod hostile_bounds;
mod infra_client;
mod infra_report;
mod mock_abuse;
mod mock_check;
mod mock_cli;
mod mock_faults;
mod mock_http;
mod mock_realistic;
mod mock_robustness;
mod proxy;
mod realistic_seeds;
mod references;
mod regress;
mod report_outputs;
mod request_failures;
mod robustness;
mod run_cli;
mod run_model;
mod severities;
mod snapshot_cargo_insta;
mod snapshot_diff;
mod snapshot_normalise;
mod snapshot_store;
mod stuck_targets;
mod users;
