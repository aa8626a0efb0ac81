//! The public documents the rules come from, named once so findings cite them consistently
//! (the same pages as the check catalogue's `doc`; a short label says which part).

pub const STREAM_FRAMING: &str =
    "https://platform.claude.com/docs/en/build-with-claude/streaming (event stream format)";
pub const STREAM_EVENTS: &str =
    "https://platform.claude.com/docs/en/build-with-claude/streaming (event types)";
pub const STREAM_GRAMMAR: &str =
    "https://platform.claude.com/docs/en/build-with-claude/streaming (event flow)";
pub const STREAM_ERRORS: &str =
    "https://platform.claude.com/docs/en/build-with-claude/streaming (error events)";
pub const ACCUMULATOR: &str =
    "https://platform.claude.com/docs/en/build-with-claude/streaming (delta types)";
pub const MESSAGE: &str = "https://platform.claude.com/docs/en/api/messages (response)";
pub const STOP_REASON: &str =
    "https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons";
pub const USAGE: &str = "https://platform.claude.com/docs/en/api/messages (usage)";
pub const HEADERS: &str = "https://platform.claude.com/docs/en/api/overview (response headers)";
pub const ERRORS: &str = "https://platform.claude.com/docs/en/api/errors";
pub const TOOLS: &str = "https://platform.claude.com/docs/en/agents-and-tools/tool-use/overview";
pub const THINKING: &str =
    "https://platform.claude.com/docs/en/build-with-claude/extended-thinking";
pub const STRUCTURED: &str =
    "https://platform.claude.com/docs/en/build-with-claude/structured-outputs";
pub const SEMANTICS: &str = "https://platform.claude.com/docs/en/api/messages";
pub const OTHER_ENDPOINTS: &str = "https://platform.claude.com/docs/en/api/messages/count_tokens, https://platform.claude.com/docs/en/api/models/list";
