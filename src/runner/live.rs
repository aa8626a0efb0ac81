//! The client cases of a run (`--client`), after its scenario cases: one at a time (each is a
//! real application process), announced to the sinks like any case. A client that is not
//! installed is named once and its cases are `skip` results.

use super::args::Settings;
use crate::clients::{self, ClientCase};
use crate::run::{Dispatch, RunEvent, SinkError};
use std::collections::BTreeMap;

/// Run `cases` in order; stops early (keeping what finished) when `stop` resolves. Returns
/// whether it was stopped.
pub(super) async fn run_client_cases(
    cases: &[ClientCase],
    settings: &Settings,
    dispatch: &mut Dispatch<'_, '_>,
    stop: impl std::future::Future<Output = ()>,
    deadline: Option<std::time::Instant>,
) -> Result<bool, SinkError> {
    let mut located = BTreeMap::new();
    for case in cases {
        located.entry(case.kind).or_insert_with(|| {
            let found = clients::locate(case.kind, &settings.clients);
            if let Err(why) = &found {
                eprintln!(
                    "skip: --client {}: {why}; its cases are skipped",
                    clients::name(case.kind)
                );
            }
            found
        });
    }
    tokio::pin!(stop);
    let out_of_time = super::until(deadline);
    tokio::pin!(out_of_time);
    let mut timed_out = false;
    for case in cases {
        let id = case.id();
        dispatch.emit(&RunEvent::CaseStarted { case: &id })?;
        let bin = located[&case.kind].as_deref().map_err(String::as_str);
        let run = clients::run_case(case, bin, &settings.clients, &settings.redactor);
        let ran_out = || {
            let why = super::out_of_time_error(settings);
            (clients::out_of_time(case, why), Vec::new())
        };
        let (record, exchanges) = if timed_out {
            ran_out()
        } else {
            tokio::select! {
                done = run => done,
                _ = &mut stop => return Ok(true),
                // The client (killed when its case is dropped) and the cases after it end as
                // `error`.
                _ = &mut out_of_time => {
                    timed_out = true;
                    ran_out()
                }
            }
        };
        for (step, records) in &exchanges {
            dispatch.emit(&RunEvent::ExchangeRecorded {
                case: &id,
                step,
                records,
            })?;
        }
        dispatch.emit(&RunEvent::CaseFinished { record: &record })?;
    }
    Ok(false)
}
