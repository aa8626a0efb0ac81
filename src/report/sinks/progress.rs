//! The terminal while a run goes: a progress bar naming the running cases, or, when stderr is
//! not a terminal (CI, a pipe, a log file), a plain line at a fixed interval —
//! `progress: 37/142 results, 2 running, 3m10s` — so a slow or stuck run is never silent. The
//! line is written on an event or a [`Sink::tick`] once the interval has passed since the last
//! one.

use crate::report::model::RunReport;
use crate::run::{RunEvent, Sink, SinkError};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the plain line is written by default (seconds).
pub(crate) const PLAIN_EVERY_SECS: u64 = 30;

pub struct ProgressSink {
    bar: indicatif::ProgressBar,
    running: Vec<String>,
    plain: Option<Plain>,
    done: u64,
    planned: u64,
}

/// The plain-line display.
struct Plain {
    out: Box<dyn Write + Send>,
    every: Duration,
    started: Instant,
    last: Instant,
}

impl ProgressSink {
    /// The bar on a terminal; without one (and unless `quiet`) a plain line on stderr every
    /// `every`.
    pub(crate) fn new(quiet: bool, every: Duration) -> ProgressSink {
        let plain = (!quiet && !std::io::stderr().is_terminal())
            .then(|| Box::new(std::io::stderr()) as Box<dyn Write + Send>);
        ProgressSink::with_plain(quiet, plain, every)
    }

    /// A sink whose plain lines (if any) go to `plain`.
    fn with_plain(quiet: bool, plain: Option<Box<dyn Write + Send>>, every: Duration) -> Self {
        let now = Instant::now();
        ProgressSink {
            bar: crate::report::terminal::progress_bar(0, quiet),
            running: Vec::new(),
            plain: plain.map(|out| Plain {
                out,
                every,
                started: now,
                last: now,
            }),
            done: 0,
            planned: 0,
        }
    }

    fn show(&self) {
        let now = self.running.last().cloned().unwrap_or_default();
        let more = self.running.len().saturating_sub(1);
        self.bar.set_message(if more > 0 {
            format!("{now} (+{more})")
        } else {
            now
        });
    }

    /// Write the plain line when the interval has passed (a line that cannot be written is
    /// dropped: the display must never stop the run).
    fn plain_line(&mut self) {
        let (done, planned, running) = (self.done, self.planned, self.running.len());
        let Some(p) = &mut self.plain else { return };
        if p.last.elapsed() < p.every {
            return;
        }
        p.last = Instant::now();
        let secs = p.started.elapsed().as_secs();
        let _ = writeln!(
            p.out,
            "progress: {done}/{planned} results, {running} running, {}m{:02}s",
            secs / 60,
            secs % 60
        );
        let _ = p.out.flush();
    }
}

impl Sink for ProgressSink {
    fn event(&mut self, e: &RunEvent<'_>, _: &RunReport) -> Result<(), SinkError> {
        match e {
            RunEvent::Started { planned, .. } => {
                self.planned = *planned as u64;
                self.bar.set_length(self.planned);
            }
            RunEvent::CaseStarted { case } => {
                self.running
                    .push(crate::text::visible(&case.to_string()).into_owned());
                self.show();
            }
            RunEvent::CaseFinished { record } => {
                let name = crate::text::visible(&record.case_id().to_string()).into_owned();
                if let Some(i) = self.running.iter().position(|r| *r == name) {
                    self.running.remove(i);
                }
                self.done += 1;
                self.bar.inc(1);
                self.show();
            }
            RunEvent::Finished => {
                self.bar.finish_and_clear();
                return Ok(());
            }
            _ => {}
        }
        self.plain_line();
        Ok(())
    }

    fn tick(&mut self, _: &RunReport) -> Result<(), SinkError> {
        self.plain_line();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::CaseId;
    use crate::scenario::model::Mode;
    use std::sync::{Arc, Mutex};

    /// A writer whose text the test reads.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_plain_line_counts_results_and_running_cases_at_its_interval() {
        let out = Shared::default();
        let every = Duration::from_millis(50);
        let mut sink = ProgressSink::with_plain(true, Some(Box::new(out.clone())), every);
        let report = RunReport::new(Vec::new());
        let case = CaseId::new("t", "a/b", Mode::Sync);
        sink.event(
            &RunEvent::Started {
                targets: &[],
                planned: 142,
            },
            &report,
        )
        .unwrap();
        sink.event(&RunEvent::CaseStarted { case: &case }, &report)
            .unwrap();
        sink.tick(&report).unwrap();
        assert!(
            out.0.lock().unwrap().is_empty(),
            "nothing before the interval"
        );
        std::thread::sleep(every);
        sink.tick(&report).unwrap();
        sink.tick(&report).unwrap();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text, "progress: 0/142 results, 1 running, 0m00s\n");
    }
}
