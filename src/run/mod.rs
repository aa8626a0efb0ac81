//! The run model every producer of results feeds and every output consumes: typed identities
//! ([`CaseId`], [`StepId`]), the events of a run ([`RunEvent`]), the [`Sink`] trait and the
//! [`Dispatch`] that folds events into the run's report and hands them to the sinks. The sinks
//! themselves live with what they write ([`crate::report::sinks`]).

mod aggregate;
pub(crate) mod dispatch;
pub(crate) mod events;
pub(crate) mod ids;

pub(crate) use dispatch::Dispatch;
pub(crate) use events::{RunEvent, Sink, SinkError};
pub(crate) use ids::{CaseId, StepId};
