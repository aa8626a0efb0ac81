//! The integration tests, one binary (one link on 2 cores instead of thirty): each module
//! was a test file of its own. Two stay apart: `tests/scenarios.rs`, a libtest-mimic harness
//! that runs every scenario of the library as a test, and `tests/snapshot_insta.rs`, which sets
//! `INSTA_UPDATE` for its whole process.

mod mock_support;
mod support;

mod architecture;
mod backpressure;
mod calibration;
mod catalogue;
mod causes_first;
mod check_cli;
mod client_claude_code;
mod corpus;
mod corpus_schemas;
mod detection;
mod fuzz;
mod hardening;
mod hostile;
mod infra_client;
mod infra_report;
mod mock_abuse;
mod mock_check;
mod mock_claude_code;
mod mock_cli;
mod mock_faults;
mod mock_http;
mod mock_realistic;
mod mock_robustness;
mod mock_sdk;
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
mod third_party;
mod users;
