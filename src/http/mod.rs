//! HTTP on the client side: the client ([`client`]), whether a target can be reached at all
//! before the first request ([`preflight`]), and the SSE decoder (WHATWG event-stream rules,
//! incremental, with offsets and arrival times of every frame).

pub(crate) mod client;
pub(crate) mod preflight;
pub(crate) mod sse;
