//! conform — a conformance harness for endpoints that claim to speak the Anthropic Messages API.
//!
//! The pipeline flows one way (see ARCHITECTURE.md): scenario files → plan → **execute** (an
//! [`Exchange`] per request) → **judge** ([`Finding`]s from schemas, the stream grammar and
//! request-implied checks, live, once) → verdict → snapshot → the run's events → sinks.
//!
//! Every module is private; the library's API is what this file re-exports: running scenarios
//! and observing a run ([`execute`], [`run_case`], the run model and its sinks), the results
//! ([`RunReport`], [`Verdict`], [`Finding`]), targets and scenarios, recorded traffic and the
//! judge ([`judge`]), the check catalogue ([`catalogue`]), the reference server
//! ([`reference_server`]), snapshots ([`snapshots`]), report files ([`reports`]), and the command
//! line ([`cli`], [`exit`]).

#![warn(unreachable_pub)]

mod bench;
mod budget;
mod capture;
mod check;
pub mod cli;
mod clients;
mod compare;
mod diff;
mod exchange;
pub mod exit;
mod fsutil;
mod http;
mod memo;
mod mock;
mod offline;
mod protocol;
mod providers;
mod proxy;
mod report;
mod run;
mod runner;
mod scenario;
mod secrets;
mod snapshot;
mod target;
mod text;
mod verdict;

// Running scenarios, and observing a run. (Each name is re-exported from where it is defined.)
pub use report::sinks::exchanges::ExchangeSink;
pub use report::sinks::files::ReportSink;
pub use report::sinks::progress::ProgressSink;
pub use run::dispatch::Dispatch;
pub use run::events::{RunEvent, Sink, SinkError};
pub use run::ids::{CaseId, StepId};
pub use runner::args::Settings;
pub use runner::case::{CaseRun, run_case};
pub use runner::snapshots::Snapshots;
pub use runner::transport::{ReplayError, Transport};
pub use runner::{RunError, RunOutcome, execute};

// What a run produced.
pub use check::catalogue::id::CheckId;
pub use check::finding::{Finding, Severity};
pub use report::model::{
    Baseline, ResultRecord, RunReport, Shard, SnapshotInfo, SnapshotStatus, TargetInfo, Timing,
};
pub use verdict::{Verdict, is_failure};

// Targets and scenarios.
pub use protocol::anthropic::wire::{ApiVersion, AuthStyle};
pub use scenario::diagnostics::{Diagnostic, Pos};
pub use scenario::load::{load_dir, load_text};
pub use scenario::model::{Feature, Mode, Scenario};
pub use secrets::Redactor;
pub use target::{AdHoc, ApiVersions, Config, Target, redactor};

// Recorded traffic and the HTTP client that records it.
pub use exchange::read::{for_each_exchange, parse_ndjson};
pub use exchange::write::{Recorder, write_ndjson};
pub use exchange::{
    Chunk, Collector, Exchange, FailureKind, Observer, RecordedRequest, RecordedResponse,
    TransportFailure,
};
pub use http::client::limit::RateLimiter;
pub use http::client::retry::RetryPolicy;
pub use http::client::{Client, DEFAULT_MAX_BODY, ExecPolicy, Request, Timeouts};
pub use http::preflight::reachable;

/// The judge: an exchange (or a body, a stream, a file) in, findings out — the same whether
/// the traffic is live, replayed or read from a file.
pub mod judge {
    pub use crate::http::sse::{Frame, SseDecoder, decode_all};
    pub use crate::offline::check_path;
    pub use crate::protocol::anthropic::grammar::{Ending, Profile};
    pub use crate::protocol::anthropic::judge::{Judge, Judgement, Options, judge_exchange};
    pub use crate::protocol::anthropic::schema::{
        Shape, ViolationKind, is_valid, validate, violations,
    };
    pub use crate::protocol::anthropic::stream::{StreamCheck, StreamOptions, check_bytes};
    pub use crate::protocol::anthropic::validate::{ShapeHint, Validation, validate_body};
}

/// The check catalogue: every check id, its severity and declared exceptions, its document,
/// fix and measured impact on the official clients (`conform explain`).
pub mod catalogue {
    pub use crate::check::catalogue::impact::impact_of;
    pub use crate::check::catalogue::{
        ClientImpact, Entry, Exception, Impact, Kind, all, families, get, ids,
    };
}

/// The reference server (`conform mock`): a faithful, deterministic Anthropic Messages
/// endpoint with injectable faults.
pub mod reference_server {
    pub use crate::mock::faults::{Fault, FaultInfo, fault_catalogue};
    pub use crate::mock::generate::realistic::Behaviour;
    pub use crate::mock::generate::skill::{Skill, SkillError};
    pub use crate::mock::limits::Limits;
    pub use crate::mock::{MockConfig, MockHandle, spawn};
    pub use crate::runner::embedded::{start, start_with};
}

/// Snapshots of normalised response shapes, stored in insta's format.
pub mod snapshots {
    pub use crate::snapshot::file::{MetaData, SnapshotFile};
    pub use crate::snapshot::normalise::{normalise, normalise_pinned, render};
    pub use crate::snapshot::store::{
        SnapshotEnv, SnapshotOutcome, SnapshotStatus, SnapshotStore, UpdateMode, Written,
        pending_path,
    };
}

/// Report files from a [`RunReport`].
pub mod reports {
    pub use crate::report::causes::analyse;
    pub use crate::report::causes::evidence::EvidenceIndex;
    pub use crate::report::deviation::{Deviation, Evidence, Example};
    pub use crate::report::html::render as render_html;
    pub use crate::report::json::read_report;
    pub use crate::report::markdown::render as render_markdown;
    pub use crate::report::score::{FeatureState, TargetScore, scores};
    pub use crate::report::write_all;
}

/// `conform compare`: endpoints measured against a reference with paired workloads,
/// intervals and verdicts per metric; [`comparison::simulate`] runs the statistics on the
/// reference server's answers generated in-process.
pub mod comparison {
    pub use crate::compare::metrics::{ArgsOutcome, ItemScore};
    pub use crate::compare::observe::{Call, Obs};
    pub use crate::compare::sim::{Model, compare as simulate};
    pub use crate::compare::stats::recommended_items;
    pub use crate::compare::verdict::{MetricResult, Word};
    pub use crate::compare::workload::{Family, Task, generate as workload};
    pub use crate::compare::{
        CompareArgs, CompareError, Comparison, EndpointSummary, Sample, Spent, run,
    };
}

/// Claude Code as a live client (`conform run --client claude-code`).
pub mod claude_code {
    pub use crate::clients::claude_code::{DISALLOWED_TOOLS, FEATURE, PROMPTS};
}
