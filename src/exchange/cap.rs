//! `--max-body-mb` applied to any source of records, not only the network: [`Capped`] passes
//! an exchange's body on up to the limit, cuts it there and ends the exchange with
//! [`body_limit`], the same failure the live client reports. A replay and the proxy cut where a
//! live run would, so a body too large for a live run is `error` everywhere.

use super::{End, FailureKind, Head, Observer, RecordedRequest, Retry, TransportFailure};

/// The failure of an exchange whose body went beyond `max_body` bytes.
pub(crate) fn body_limit(max_body: usize) -> TransportFailure {
    TransportFailure {
        kind: FailureKind::BodyLimit,
        message: format!(
            "the body exceeded conform's limit of {} and was cut (raise --max-body-mb)",
            crate::text::human_size(max_body)
        ),
    }
}

/// Passes records on, with each exchange's body cut at `max_body` bytes.
pub(crate) struct Capped<O> {
    inner: O,
    max_body: usize,
    size: usize,
    cut: bool,
}

impl<O: Observer> Capped<O> {
    pub(crate) fn new(max_body: usize, inner: O) -> Self {
        Capped {
            inner,
            max_body,
            size: 0,
            cut: false,
        }
    }
}

impl<O: Observer> Observer for Capped<O> {
    fn begin(&mut self, label: &str, request: &RecordedRequest) {
        self.size = 0;
        self.cut = false;
        self.inner.begin(label, request);
    }
    fn retry(&mut self, retry: &Retry) {
        self.inner.retry(retry);
    }
    fn head(&mut self, head: &Head) {
        self.inner.head(head);
    }
    fn chunk(&mut self, t_ms: f64, bytes: &[u8]) {
        if self.cut {
            return;
        }
        let room = self.max_body.saturating_sub(self.size);
        if bytes.len() > room {
            self.inner.chunk(t_ms, &bytes[..room]);
            self.cut = true;
            return;
        }
        self.size += bytes.len();
        self.inner.chunk(t_ms, bytes);
    }
    fn end(&mut self, end: &End) {
        if self.cut {
            self.inner.end(&End {
                total_ms: end.total_ms,
                transport: Some(body_limit(self.max_body)),
            });
        } else {
            self.inner.end(end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::Collector;

    fn run(max: usize, chunks: &[&[u8]]) -> crate::exchange::Exchange {
        let mut c = Capped::new(max, Collector::default());
        let req = RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1/v1/messages".into(),
            headers: Vec::new(),
            body: None,
        };
        c.begin("x", &req);
        c.head(&Head {
            status: 200,
            headers: Vec::new(),
            head_ms: 1.0,
        });
        for (i, b) in chunks.iter().enumerate() {
            c.chunk(i as f64, b);
        }
        c.end(&End {
            total_ms: 9.0,
            transport: None,
        });
        c.inner.into_exchanges().pop().unwrap()
    }

    #[test]
    fn a_body_within_the_limit_passes_untouched() {
        let x = run(6, &[b"abc", b"def"]);
        assert!(x.transport.is_none());
        assert_eq!(x.response.unwrap().body_bytes(), b"abcdef");
    }

    #[test]
    fn a_body_beyond_the_limit_is_cut_and_ends_as_the_live_client_ends_it() {
        let x = run(4, &[b"abc", b"def", b"ghi"]);
        let t = x.transport.unwrap();
        assert_eq!(t.kind, FailureKind::BodyLimit);
        assert_eq!(t.message, body_limit(4).message);
        assert_eq!(x.response.unwrap().body_bytes(), b"abcd");
    }
}
