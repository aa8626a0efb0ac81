//! The public documents the rules come from, named once so findings cite them consistently
//! (the same pages as the check catalogue's `doc`; a short label says which part).

pub(crate) const STREAM_FRAMING: &str =
    "https://platform.claude.com/docs/en/build-with-claude/streaming (event stream format)";
pub(crate) const STREAM_EVENTS: &str =
    "https://platform.claude.com/docs/en/build-with-claude/streaming (event types)";
pub(crate) const STREAM_GRAMMAR: &str =
    "https://platform.claude.com/docs/en/build-with-claude/streaming (event flow)";
pub(crate) const STREAM_ERRORS: &str =
    "https://platform.claude.com/docs/en/build-with-claude/streaming (error events)";
pub(crate) const MESSAGE: &str = "https://platform.claude.com/docs/en/api/messages (response)";
pub(crate) const STOP_REASON: &str =
    "https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons";
pub(crate) const USAGE: &str = "https://platform.claude.com/docs/en/api/messages (usage)";
pub(crate) const HEADERS: &str =
    "https://platform.claude.com/docs/en/api/overview (response headers)";
pub(crate) const ERRORS: &str = "https://platform.claude.com/docs/en/api/errors";
pub(crate) const TOOLS: &str =
    "https://platform.claude.com/docs/en/agents-and-tools/tool-use/overview";
pub(crate) const THINKING: &str =
    "https://platform.claude.com/docs/en/build-with-claude/extended-thinking";
pub(crate) const STRUCTURED: &str =
    "https://platform.claude.com/docs/en/build-with-claude/structured-outputs";
pub(crate) const SEMANTICS: &str = "https://platform.claude.com/docs/en/api/messages";
pub(crate) const SERVER_TOOLS: &str =
    "https://platform.claude.com/docs/en/agents-and-tools/tool-use/web-search-tool";
