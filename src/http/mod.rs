//! HTTP on the client side: the SSE decoder (WHATWG event-stream rules, incremental, with
//! offsets and arrival times of every frame).

pub mod client;
pub mod sse;
