//! A connection's reads, timed by what the connection is doing (HTTP/1, no pipelining):
//!
//! * **idle** — after accept, and once a response is being written: the next request must
//!   start within [`Limits::keep_alive_timeout`]; every byte written (a streamed answer)
//!   moves that deadline, so a long stream is never cut;
//! * **head** — from the first byte of a request: its head (up to the blank line) must arrive
//!   within [`Limits::header_read_timeout`] (slowloris);
//! * **busy** — the head is in: no deadline here (request bodies have their own idle limit,
//!   enforced while reading in `server.rs`).
//!
//! A deadline that passes makes the next read fail with `TimedOut`, and hyper closes the
//! connection.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::limits::Limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    /// In a request head; how many bytes of `\r\n\r\n` were just seen.
    Head(u8),
    Busy,
}

/// `inner` with the deadlines above.
pub(crate) struct Timed<S> {
    inner: S,
    phase: Phase,
    header: Duration,
    keep_alive: Duration,
    deadline: Pin<Box<Sleep>>,
    /// The waker of the last read that was pending: a response being written re-arms the
    /// idle deadline, and the reader must be polled again for that deadline to be watched.
    read_waker: Option<Waker>,
}

impl<S> Timed<S> {
    pub(crate) fn new(inner: S, limits: &Limits) -> Timed<S> {
        Timed {
            inner,
            phase: Phase::Idle,
            header: limits.header_read_timeout,
            keep_alive: limits.keep_alive_timeout,
            deadline: Box::pin(tokio::time::sleep(limits.keep_alive_timeout)),
            read_waker: None,
        }
    }

    fn arm(&mut self, after: Duration) {
        self.deadline.as_mut().reset(Instant::now() + after);
    }

    /// Bytes of a response went out: the connection is idle until the next request, and a
    /// pending reader is woken so it watches the new deadline.
    fn wrote(&mut self) {
        self.phase = Phase::Idle;
        self.arm(self.keep_alive);
        if let Some(w) = self.read_waker.take() {
            w.wake();
        }
    }

    /// Track the phase through `bytes` just read.
    fn saw(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.phase = match self.phase {
                Phase::Idle => {
                    self.arm(self.header);
                    Phase::Head(matched(0, b))
                }
                Phase::Head(m) => match matched(m, b) {
                    4 => Phase::Busy,
                    m => Phase::Head(m),
                },
                Phase::Busy => return,
            };
        }
    }
}

/// Progress through `\r\n\r\n` after byte `b`, having matched `m` bytes of it.
fn matched(m: u8, b: u8) -> u8 {
    const END: &[u8; 4] = b"\r\n\r\n";
    if b == END[m as usize] {
        m + 1
    } else if b == b'\r' {
        1
    } else {
        0
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Timed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = buf.filled()[before..].to_vec();
                this.saw(&new);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if this.phase == Phase::Busy => {
                this.read_waker = Some(cx.waker().clone());
                Poll::Pending
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    if this.phase == Phase::Idle {
                        "idle keep-alive connection"
                    } else {
                        "request head not received in time"
                    },
                ))),
                Poll::Pending => {
                    this.read_waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Timed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r
            && n > 0
        {
            // A response is going out: the next bytes read start a new request.
            this.wrote();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = r
            && n > 0
        {
            this.wrote();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timed() -> Timed<tokio::io::Empty> {
        Timed::new(tokio::io::empty(), &Limits::default())
    }

    #[tokio::test]
    async fn a_head_ends_at_its_blank_line_even_split_across_reads() {
        let mut t = timed();
        t.saw(b"GET / HTTP/1.1\r\nHost: x\r");
        assert!(matches!(t.phase, Phase::Head(1)));
        t.saw(b"\n\r");
        assert!(matches!(t.phase, Phase::Head(3)));
        t.saw(b"\nbody bytes \r\n\r\n");
        assert_eq!(t.phase, Phase::Busy);
    }

    #[tokio::test]
    async fn a_lone_crlf_inside_a_head_does_not_end_it() {
        let mut t = timed();
        t.saw(b"GET / HTTP/1.1\r\nA: b\r\r\nC: d\r\n");
        assert!(matches!(t.phase, Phase::Head(2)));
    }
}
