//! The resource limits of one reference server: connections, timeouts, body sizes and
//! the memory bodies may hold.

use std::time::Duration;

/// Resource limits of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most; more are closed right after accept.
    pub max_connections: usize,
    /// Time to receive a complete request head, from its first byte.
    pub header_read_timeout: Duration,
    /// Time a connection may wait for its next request (after accept, after a response).
    pub keep_alive_timeout: Duration,
    /// Longest pause while a request body is being received.
    pub body_idle_timeout: Duration,
    /// Largest accepted request body (Anthropic: 32 MB); larger ones get 413.
    pub max_body_bytes: usize,
    /// Bytes of request bodies buffered at once, over all connections.
    pub body_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(20),
            keep_alive_timeout: Duration::from_secs(60),
            body_idle_timeout: Duration::from_secs(10),
            max_body_bytes: 32 * 1024 * 1024,
            body_memory: 96 * 1024 * 1024,
        }
    }
}
