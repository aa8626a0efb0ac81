//! The fault catalogue of `conform mock`: one flag per deviation seen in real providers and
//! gateways (docs/protocol.md §9, the notes of tests/corpus/MANIFEST.tsv). Faults combine; each
//! one changes the traffic in exactly the way its description says, so a harness check can be
//! proven to fire.
//!
//! Every fault is declared once below, with its [`Layer`], name, description and who shows it;
//! the clean server produces the canonical answer and each fault transforms one layer of it:
//! [`request`] (the request as the generator sees it; auth, limits and endpoints in
//! `server.rs`), [`answer`] (the generated message), [`events`] (the SSE event sequence and the
//! message body) or the HTTP framing (`stream.rs`; error bodies and statuses in `server.rs`).

pub(crate) mod answer;
pub(crate) mod events;
pub(crate) mod request;

use std::fmt;
use std::str::FromStr;

/// What a fault is and who does this in the wild, for `--list-faults` and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultInfo {
    pub fault: Fault,
    pub layer: Layer,
    pub name: &'static str,
    pub description: &'static str,
    pub seen_in: &'static str,
}

/// Where a fault acts: every fault is a transform of one layer of the clean answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Request handling: auth, rate limits, models, endpoints, accounting, and the request as
    /// the generator sees it ([`request`]).
    Request,
    /// The generated message before it is rendered ([`answer`]).
    Answer,
    /// The sequence of SSE events and the message body ([`events`]).
    Events,
    /// HTTP framing: SSE bytes, delivery, error bodies and statuses (`stream.rs`, `server.rs`).
    Framing,
}

macro_rules! faults {
    ($( $variant:ident = [$layer:ident] $name:literal : $desc:literal ; $who:literal ),* $(,)?) => {
        /// One deviation the mock can be told to reproduce (`--fault NAME`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Fault { $( $variant ),* }

        static CATALOGUE: &[FaultInfo] = &[
            $( FaultInfo { fault: Fault::$variant, layer: Layer::$layer, name: $name, description: $desc, seen_in: $who } ),*
        ];
    };
}

faults! {
    NoMessageStart = [Events] "no-message-start": "the stream starts with content_block_start; no message_start event"; "hand-written proxies that translate OpenAI chunks",
    NoMessageStop = [Events] "no-message-stop": "the stream ends after message_delta without message_stop"; "OpenAI-to-Anthropic adapters, early llama.cpp",
    NoPing = [Events] "no-ping": "no ping event after the first content_block_start"; "most compatible providers (harmless, but not Anthropic's shape)",
    EventNameMismatch = [Framing] "event-name-mismatch": "content_block_* events are sent under `event: content_block`, which differs from data.type"; "gateways that relabel events",
    DataOnlyEvents = [Framing] "data-only-events": "no `event:` lines at all; every event is data-only (the SDKs drop such events)"; "OpenAI-style SSE emitters behind an Anthropic path",
    DoneSentinel = [Framing] "done-sentinel": "`data: [DONE]` after message_stop"; "OpenAI-compatible servers reusing their stream writer",
    WrongDeltaType = [Events] "wrong-delta-type": "the first block's deltas carry the wrong delta type (text block gets thinking_delta, thinking gets text_delta, tool_use gets text_delta)"; "adapters mapping reasoning_content",
    IndexGap = [Events] "index-gap": "content block indices start at 1 instead of 0"; "adapters that count a hidden reasoning block",
    InterleavedBlocks = [Events] "interleaved-blocks": "all blocks are started before any is stopped and their deltas interleave (needs a message with 2+ blocks)"; "parallel tool-call adapters (LiteLLM bugs)",
    UnclosedBlock = [Events] "unclosed-block": "the last content block never gets content_block_stop"; "llama.cpp server history, adapters",
    EmptyTextDelta = [Events] "empty-text-delta": "text_delta events with empty text are sent before and between real deltas"; "vLLM, OpenAI-to-Anthropic adapters",
    StreamDropsDelta = [Events] "stream-drops-delta": "the streamed text loses a piece: in each text block of three or more deltas, the first inner text_delta with a non-ASCII character is not sent (the events stay well-formed; ASCII text is untouched)"; "translators decoding each network read as UTF-8 on its own, losing characters split across reads",
    UsageMissing = [Events] "usage-missing": "no usage in message_start, message_delta or the message"; "minimal proxies",
    UsageNotCumulative = [Events] "usage-not-cumulative": "message_delta usage counts only the increment (output smaller than message_start's, input_tokens 0)"; "adapters summing chunk usage wrongly",
    StreamInputTokensZero = [Events] "stream-input-tokens-zero": "message_start counts 0 input tokens and message_delta repeats no input_tokens (the streamed answer's prompt is never counted)"; "translators that fill message_start before the upstream's usage arrives",
    NullOptionalFields = [Events] "null-optional-fields": "fields Anthropic omits are sent as explicit nulls (citations, stop_details, container, usage.cache_creation, usage.service_tier, usage cache counts, delta usage input_tokens)"; "pydantic-based gateways serialising every field",
    WrongStopReason = [Answer] "wrong-stop-reason": "stop_reason end_turn although the message ends with a tool_use block"; "OpenAI finish_reason mapping (stop instead of tool_calls)",
    NoSignature = [Answer] "no-signature": "thinking blocks carry an empty signature (no signature_delta in streams)"; "DashScope, GLM, DeepSeek",
    ThinkingIgnored = [Request] "thinking-ignored": "thinking enabled but no thinking block is produced"; "providers without reasoning support, older DeepSeek docs",
    StopSequenceIgnored = [Answer] "stop-sequence-ignored": "stop_sequences are ignored: the text runs through the sequence, stop_reason end_turn, stop_sequence null"; "MiniMax (documented)",
    StopSequenceEndTurn = [Answer] "stop-sequence-end-turn": "the text is cut before the stop sequence but stop_reason is end_turn and stop_sequence null"; "DashScope (documented)",
    ToolChoiceIgnored = [Request] "tool-choice-ignored": "tool_choice is treated as auto (none may still call, any/tool may not)"; "gateways dropping tool_choice",
    ToolInputString = [Answer] "tool-input-string": "tool_use.input is a JSON string holding the arguments instead of an object"; "OpenAI arguments passed through unparsed",
    PartialJsonInvalid = [Events] "partial-json-invalid": "the input_json_delta fragments concatenate to invalid JSON (a closing brace is dropped); stream only"; "LiteLLM dropping input_json_delta fragments",
    MaxTokensIgnored = [Request] "max-tokens-ignored": "max_tokens is not enforced: output_tokens can exceed it and stop_reason stays end_turn"; "providers mapping max_tokens to a soft limit",
    CacheIgnored = [Request] "cache-ignored": "cache_control is accepted but cache counts are always 0 and nothing is cached"; "DeepSeek tools, most gateways",
    StructuredOutputIgnored = [Request] "structured-output-ignored": "output_config.format / output_format is accepted but the text is prose, not JSON"; "DashScope, DeepSeek (undocumented)",
    OpenaiErrors = [Framing] "openai-errors": "error bodies are OpenAI-shaped: {\"error\":{\"message\",\"type\",\"param\",\"code\"}}"; "OpenAI-compatible servers, vLLM",
    ErrorAs200 = [Framing] "error-as-200": "errors are returned with HTTP status 200 (the body is still an error)"; "some Chinese gateways, proxies",
    WrongErrorStatus = [Framing] "wrong-error-status": "validation errors come back as 422 and unknown models as 500"; "FastAPI-based gateways",
    TextPlainErrors = [Framing] "text-plain-errors": "error bodies are text/plain messages instead of JSON"; "reverse proxies, nginx, load balancers",
    MidStreamErrorAsMessage = [Events] "mid-stream-error-as-message": "an error event mid-stream is followed by message_delta and message_stop"; "adapters that always close the message",
    TruncatedStream = [Framing] "truncated-stream": "the connection is closed mid-stream without message_stop"; "proxies with short read timeouts",
    FakeStreaming = [Framing] "fake-streaming": "all events are flushed at once at the end instead of incrementally"; "gateways that buffer the upstream response",
    NonAnthropicIds = [Answer] "non-anthropic-ids": "ids look like OpenAI's (chatcmpl-…, call_…) instead of msg_/toolu_"; "OpenAI-backed adapters",
    ModelRewrite = [Answer] "model-rewrite": "the response model differs from the requested one (provider-prefixed)"; "OpenRouter, LiteLLM, DeepSeek mapping",
    ExtraFields = [Events] "extra-fields": "non-Anthropic fields are added (timings, system_fingerprint)"; "llama.cpp server, vLLM",
    NoRequestId = [Framing] "no-request-id": "no request-id header and no request_id in error bodies"; "nearly every non-Anthropic endpoint",
    CountTokensMissing = [Request] "count-tokens-missing": "POST /v1/messages/count_tokens answers 404"; "DeepSeek, MiniMax, many gateways",
    ModelsMissing = [Request] "models-missing": "GET /v1/models and /v1/models/{id} answer 404"; "DashScope, many gateways",
    UnknownModelRemap = [Request] "unknown-model-remap": "an unknown model is answered with 200 by the default model instead of 404"; "DeepSeek (documented mapping)",
    AuthIgnored = [Request] "auth-ignored": "any key (or none) is accepted"; "local servers (llama.cpp, Ollama)",
    RateLimit = [Request] "rate-limit": "every other request (the 1st, 3rd, …) gets 429 rate_limit_error with retry-after"; "every provider under load",
    ThinkingByDefault = [Request] "thinking-by-default": "thinking blocks appear even when thinking is omitted or disabled"; "Qwen3.5+ hybrid models on DashScope",
    ParallelToolsIgnored = [Answer] "parallel-tools-ignored": "disable_parallel_tool_use is ignored: several tool_use blocks may come back"; "DeepSeek (documented)",
    SignatureUnchecked = [Request] "signature-unchecked": "a thinking block passed back with a tampered signature is accepted"; "providers that do not sign thinking",
    BearerRejected = [Request] "bearer-rejected": "only x-api-key is accepted: a key sent as `authorization: Bearer` gets 401 authentication_error"; "gateways and translators that read only x-api-key",
    NewVersionRejected = [Request] "new-version-rejected": "only anthropic-version 2023-06-01 is accepted: a request sent with 2026-10-21 (what today's SDKs send) gets 400 invalid_request_error"; "endpoints that validate the version against the list they were written for",
    Cooldown = [Request] "cooldown-429": "for 6 s from the first request, every request gets 429 rate_limit_error without retry-after (longer than a client's own retries last); then every request is answered"; "gateways cooling a deployment down after a burst of errors",
    ServerErrorOnBlocks = [Request] "5xx-on-block-content": "POST /v1/messages answers 500 Internal Server Error (text/plain) to every request in which a message's content is an array of blocks; string content is answered normally"; "translators that handle only string content",
    ThinkingPassbackRejected = [Request] "thinking-passback-rejected": "a request that passes back thinking (or redacted_thinking) blocks in an assistant turn of a tool-use history gets 400 invalid_request_error"; "translators to chat APIs with no place for reasoning in assistant messages",
    ThinkingRequiredAfterTool = [Request] "thinking-required-after-tool": "with thinking on, an assistant tool_use turn passed back without a thinking block gets 400 invalid_request_error `reasoning_content is missing in assistant tool call message at index N`, a completed earlier turn too"; "DeepSeek and Moonshot (Kimi) thinking modes",
    SignatureDroppedAfterToolTurn = [Answer] "signature-dropped-after-tool-turn": "thinking blocks of answers to a tool-result turn carry an empty signature (no signature_delta; the first turn's are signed); a thinking block passed back without a signature is accepted, signed ones are still verified"; "translators that keep only the first reasoning's signature",
    ThinkingStopsAfterToolTurn = [Request] "thinking-stops-after-tool-turn": "answers to a tool-result turn have no thinking block although thinking is on (the first turn thinks)"; "providers that drop reasoning once a tool result comes back",
    EffortIgnored = [Request] "effort-ignored": "output_config.effort is accepted but has no effect: every level is answered as `high`, the default"; "providers that accept output_config and drop effort (documented as unsupported or ignored)",
    IgnoredFieldsRejected = [Request] "ignored-fields-rejected": "a request carrying service_tier, container, mcp_servers, inference_geo or metadata gets 400 invalid_request_error `FIELD: Extra inputs are not permitted`"; "strict translators and gateways validating against a schema of their own",
    CacheTtlIgnored = [Request] "cache-ttl-ignored": "cache_control ttl 1h is written to the 5-minute cache: the write is reported in ephemeral_5m_input_tokens and ephemeral_1h_input_tokens stays 0"; "gateways and providers with one cache duration",
    RatelimitHeadersMissing = [Framing] "ratelimit-headers-missing": "no anthropic-ratelimit-* headers on any answer"; "nearly every non-Anthropic endpoint, gateways that drop the upstream's headers",
    RefusalWithoutStopDetails = [Answer] "refusal-without-stop-details": "a refusal (stop_reason refusal; the reference server refuses a prompt containing `conform-refusal-probe`) carries no stop_details"; "translators mapping a content filter's finish reason to refusal without its details",
    ContextEditsIgnored = [Request] "context-edits-ignored": "context_management edits are accepted but never applied: no tool result is cleared, usage counts the whole prompt and the answer has no context_management"; "gateways that pass the beta field through to an upstream without context editing, or drop it",
    ServerToolDropped = [Request] "server-tool-dropped": "server tools (web_search, web_fetch, code_execution: the tools with a versioned type) are silently removed from the request; the model answers without them and usage has no server_tool_use"; "OpenAI-backed translators that keep only function tools (Claude Code's WebSearch fails on such providers)",
    CitationsDropped = [Answer] "citations-dropped": "citations enabled on documents or search results are ignored: the answer quotes the sources in text blocks without citations"; "translators that map text blocks to OpenAI content strings",
    SearchResultRejected = [Request] "search-result-rejected": "a request with a search_result block (in a user turn or a tool_result) gets 400 invalid_request_error, its tag unknown"; "providers and gateways whose request schema predates search results",
    PauseTurnAsEndTurn = [Answer] "pause-turn-as-end-turn": "a server-tool loop paused at its iteration limit is reported with stop_reason end_turn instead of pause_turn (the client does not continue the turn)"; "gateways mapping every stop reason they do not know to end_turn",
    HistoryDropped = [Request] "history-dropped": "only the newest user turn reaches the model: the earlier turns of the conversation are dropped before it is counted and answered (usage counts the last turn alone)"; "adapters that map a conversation to one prompt, translators that lose the turns they cannot convert",
}

/// The whole catalogue, in a stable order.
pub fn fault_catalogue() -> &'static [FaultInfo] {
    CATALOGUE
}

impl Fault {
    pub fn info(self) -> &'static FaultInfo {
        CATALOGUE
            .iter()
            .find(|i| i.fault == self)
            .expect("every fault is in the catalogue")
    }

    pub(crate) fn name(self) -> &'static str {
        self.info().name
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault name that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault `{name}`{}; known faults: {known}", suggestion.as_deref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownFault {
    pub name: String,
    pub known: String,
    /// The closest known name, when one is close.
    pub suggestion: Option<String>,
}

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        CATALOGUE
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(wanted))
            .map(|i| i.fault)
            .ok_or_else(|| UnknownFault {
                name: wanted.to_string(),
                suggestion: crate::text::closest(
                    &wanted.to_ascii_lowercase(),
                    CATALOGUE.iter().map(|i| i.name),
                )
                .map(str::to_string),
                known: CATALOGUE
                    .iter()
                    .map(|i| i.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// The faults a server runs with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FaultSet(Vec<Fault>);

impl FaultSet {
    pub(crate) fn new(faults: impl IntoIterator<Item = Fault>) -> Self {
        let mut v: Vec<Fault> = faults.into_iter().collect();
        v.sort();
        v.dedup();
        FaultSet(v)
    }

    pub(crate) fn has(&self, fault: Fault) -> bool {
        self.0.contains(&fault)
    }
}

impl FromIterator<Fault> for FaultSet {
    fn from_iter<I: IntoIterator<Item = Fault>>(iter: I) -> Self {
        FaultSet::new(iter)
    }
}

/// One `--list-faults` line: `NAME<TAB>description (seen in: who)`.
pub(crate) fn list_line(info: &FaultInfo) -> String {
    format!(
        "{}\t{} (seen in: {})",
        info.name, info.description, info.seen_in
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_are_unique() {
        let mut names: Vec<&str> = fault_catalogue().iter().map(|i| i.name).collect();
        for info in fault_catalogue() {
            assert_eq!(info.name.parse::<Fault>().unwrap(), info.fault);
            assert_eq!(info.fault.name(), info.name);
        }
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn issue_names_are_all_present() {
        for name in [
            "no-message-start",
            "no-message-stop",
            "no-ping",
            "event-name-mismatch",
            "data-only-events",
            "done-sentinel",
            "wrong-delta-type",
            "index-gap",
            "interleaved-blocks",
            "unclosed-block",
            "empty-text-delta",
            "usage-missing",
            "usage-not-cumulative",
            "stream-input-tokens-zero",
            "null-optional-fields",
            "wrong-stop-reason",
            "no-signature",
            "thinking-ignored",
            "stop-sequence-ignored",
            "tool-choice-ignored",
            "tool-input-string",
            "partial-json-invalid",
            "max-tokens-ignored",
            "cache-ignored",
            "structured-output-ignored",
            "openai-errors",
            "error-as-200",
            "wrong-error-status",
            "text-plain-errors",
            "mid-stream-error-as-message",
            "truncated-stream",
            "fake-streaming",
            "non-anthropic-ids",
            "model-rewrite",
            "extra-fields",
            "no-request-id",
            "count-tokens-missing",
            "models-missing",
            "unknown-model-remap",
            "auth-ignored",
            "rate-limit",
        ] {
            assert!(name.parse::<Fault>().is_ok(), "{name}");
        }
    }

    #[test]
    fn unknown_name_lists_known_ones() {
        let err = "no-such-fault".parse::<Fault>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("no-such-fault"));
        assert!(msg.contains("truncated-stream"));
    }

    #[test]
    fn list_lines_have_a_tab() {
        let line = list_line(Fault::RateLimit.info());
        assert!(line.starts_with("rate-limit\t"));
    }
}
