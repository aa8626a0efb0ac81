//! conform — a conformance harness for endpoints that claim to speak the Anthropic Messages API.
//!
//! The pipeline (ARCHITECTURE.md, "Bird's-eye view") flows one way:
//! scenario files → plan → **execute** (an [`exchange::Exchange`] per request) → **validate**
//! ([`check::Finding`]s from schemas, the stream grammar and request-implied checks) → verdict
//! → snapshot → report sinks.

#![warn(unreachable_pub)]

pub mod bench;
pub mod check;
pub mod clients;
pub mod diff;
pub mod exchange;
pub mod exit;
pub mod fsutil;
pub mod http;
mod memo;
pub mod mock;
pub mod offline;
pub mod protocol;
pub mod providers;
pub mod proxy;
pub mod report;
pub mod run;
pub mod runner;
pub mod scenario;
pub mod secrets;
pub mod snapshot;
pub mod target;
mod text;
pub mod verdict;
