//! Document sections the rules come from, named once so findings cite them consistently.

pub const STREAM_FRAMING: &str = "protocol §4.1 (streaming framing)";
pub const STREAM_EVENTS: &str = "protocol §4.2 (event payloads)";
pub const STREAM_GRAMMAR: &str = "protocol §4.3 (stream grammar)";
pub const STREAM_ERRORS: &str = "protocol §4.4 (mid-stream errors)";
pub const ACCUMULATOR: &str = "protocol §4.5 (SDK accumulator)";
pub const MESSAGE: &str = "protocol §3 (Message)";
pub const STOP_REASON: &str = "protocol §3.1 (StopReason)";
pub const USAGE: &str = "protocol §3.3 (Usage)";
pub const HEADERS: &str = "protocol §1.3 (response headers)";
pub const ERRORS: &str = "protocol §5 (errors)";
pub const TOOLS: &str = "protocol §2.5–2.6 (tools, tool_choice)";
pub const THINKING: &str = "protocol §2.7 (thinking)";
pub const STRUCTURED: &str = "protocol §2.8 (structured outputs)";
pub const SEMANTICS: &str = "protocol §7 (semantic behaviours)";
pub const OTHER_ENDPOINTS: &str = "protocol §6 (count_tokens, models)";
