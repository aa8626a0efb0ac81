//! Catalogue entries of the event stream: SSE framing (`stream.sse.*`), event payloads,
//! the event grammar (`stream.grammar.*`), stream-only behaviours, and how the exchange
//! travelled (`http.*`, `transport.*`).

use super::Exception;
use super::docs::{ERRORS, RATE_LIMITS, STREAMING, THINKING, TOOL_USE};
use crate::check::Severity::{Info, Must, Should};

declare! {
    STREAM_TEXT_ALTERED = "stream.text-altered" {
        severity: Must,
        contract: Some("The streaming documentation defines the text as the concatenation of the block's `text_delta` events; a chunk lost or sent twice alters what every client shows and stores, and no client can notice it from the stream alone."),
        title: "The streamed text lacks or repeats a piece of the text the non-streamed answer to the same deterministic request carries.",
        doc: STREAMING,
        fix: "Forward every `text_delta` exactly once and in order; a translator must not drop or re-send a chunk at a buffer or frame boundary.",
    }
    STREAM_USAGE_INPUT_TOKENS_LATE = "stream.usage.input-tokens-late" {
        severity: Should,
        // Genuine streams that ran server tools, MCP tools or compaction (corpus:
        // pyd__test_anthropic_web_search_tool_stream__0, llm__test_web_search__0,
        // pyd__test_anthropic_compaction_usage_with_cache_streaming__0 and 12 more) raise
        // `input_tokens` from `message_start` to `message_delta`: the SDKs document the
        // `message_delta` count as cumulative, and the tool results re-enter the prompt.
        exceptions: &[Exception { severity: Info, when: "`input_tokens` rises during a turn that ran server-side steps (a server or MCP tool block, a compaction block, or usage `iterations`): their results are input counted as the turn goes" }],
        title: "`message_start` reports another `input_tokens` than the final count.",
        doc: STREAMING,
        fix: "Put the prompt's real token count in `message_start.usage.input_tokens`; it is known before generation starts.",
    }
    STREAM_SSE_BOM = "stream.sse.bom" {
        severity: Should,
        title: "The event stream starts with a UTF-8 byte order mark.",
        doc: STREAMING,
        fix: "Write the first `event:` line as the first bytes of the body, without a BOM.",
    }
    STREAM_SSE_UNTERMINATED_FRAME = "stream.sse.unterminated-frame" {
        severity: Should,
        // Saved files often lose their trailing newlines (corpus: the two Python SDK fixtures
        // sdkpy__incomplete_partial_json_response.sse and sdkpy__tool_use_response_orig.sse);
        // a live or recorded exchange keeps the bytes as they arrived, so there it stays `should`.
        exceptions: &[Exception { severity: Info, when: "the stream is a saved body file (`conform check` of a `.sse`), whose end may have lost its blank line in storage" }],
        title: "The stream ends inside an event that has no blank line after it.",
        doc: STREAMING,
        fix: "Terminate every event, the last one included, with a blank line before closing the body.",
    }
    STREAM_SSE_INVALID_UTF8 = "stream.sse.invalid-utf8" {
        severity: Must,
        title: "The event stream is not valid UTF-8.",
        doc: STREAMING,
        fix: "Encode the whole stream as UTF-8; never split a multi-byte character across chunks by truncating it.",
    }
    STREAM_SSE_UNKNOWN_FIELD = "stream.sse.unknown-field" {
        severity: Info,
        title: "The event stream uses a field other than `event`, `data`, `id`, `retry` or a comment.",
        doc: STREAMING,
        fix: "Send only `event:` and `data:` lines (comments are fine); drop other fields.",
    }
    STREAM_SSE_DONE_SENTINEL = "stream.sse.done-sentinel" {
        severity: Should,
        title: "The stream sends OpenAI's `data: [DONE]` sentinel.",
        doc: STREAMING,
        fix: "End the stream after `message_stop`; do not send `[DONE]`.",
    }
    STREAM_SSE_DATA_ONLY = "stream.sse.data-only" {
        severity: Must,
        title: "Events carry no `event:` line, so the official SDKs drop them.",
        doc: STREAMING,
        fix: "Precede every `data:` line with `event: <type>`, the same name as the payload's `type`.",
    }
    STREAM_SSE_EVENT_NAME = "stream.sse.event-name" {
        severity: Must,
        title: "An event's `event:` name differs from the `type` in its data.",
        doc: STREAMING,
        fix: "Use the payload's `type` as the `event:` name of every event.",
    }
    STREAM_EVENT_JSON = "stream.event.json" {
        severity: Must,
        title: "An event has no data or its data is not JSON.",
        doc: STREAMING,
        fix: "Send each event's payload as one JSON object in its `data:` line(s).",
    }
    STREAM_EMPTY_DELTA = "stream.empty-delta" {
        severity: Should,
        title: "The stream sends an empty `text_delta`.",
        doc: STREAMING,
        fix: "Skip deltas with no text instead of sending them.",
    }
    STREAM_INCREMENTAL = "stream.incremental" {
        severity: Should,
        title: "The stream is not incremental: the events arrive all at once at the end.",
        doc: STREAMING,
        fix: "Flush each event to the socket as it is produced instead of buffering the whole response.",
    }
    STREAM_PING_MISSING = "stream.ping-missing" {
        severity: Should,
        // 51 of the corpus's 54 genuine streams carry a ping; the three without are web-search
        // streams (pyd__test_anthropic_web_search_tool_stream__0, llm__test_web_search__0,
        // llm__test_web_search_tool_result_ordering__0), so Anthropic does not guarantee one there.
        exceptions: &[Exception { severity: Info, when: "the turn ran server-side steps (a server or MCP tool block, a compaction block, or usage `iterations`): Anthropic's own such streams may carry no ping" }],
        title: "The stream carries no `ping` event.",
        doc: STREAMING,
        fix: "Send a `ping` event after the first `content_block_start`, as Anthropic does.",
    }
    STREAM_ERROR_EVENT = "stream.error-event" {
        severity: Info,
        title: "The stream ended with an `error` event.",
        doc: STREAMING,
        fix: "Nothing to fix when the error is genuine (e.g. `overloaded_error`); otherwise find why the stream failed.",
    }
    STREAM_USAGE_CUMULATIVE = "stream.usage.cumulative" {
        severity: Must,
        title: "`output_tokens` in `message_delta` falls below an earlier value although it is a running total.",
        doc: STREAMING,
        fix: "Report cumulative usage in every `message_delta`, never a per-event increment.",
        contract: Some("The streaming documentation defines the `message_delta` usage counts as cumulative totals that replace the earlier ones; an increment makes every client report too few tokens (the SDKs keep the last value), which no parse error shows."),
    }
    STREAM_GRAMMAR_PARTIAL_JSON = "stream.grammar.partial-json" {
        severity: Must,
        exceptions: &[Exception { severity: Info, when: "the block is the last one and the stop reason is `max_tokens`, which cut its input short" }],
        title: "The `partial_json` pieces of a tool block do not join into a JSON object.",
        doc: TOOL_USE,
        fix: "Emit `input_json_delta` pieces whose concatenation is exactly the tool input's JSON object.",
    }
    STREAM_GRAMMAR_MESSAGE_DELTA_MISSING = "stream.grammar.message-delta-missing" {
        severity: Must,
        title: "`message_stop` arrives without a `message_delta` before it, so the stop reason and final usage are lost.",
        doc: STREAMING,
        fix: "Send one `message_delta` with `stop_reason` and usage after the last block and before `message_stop`.",
    }
    STREAM_GRAMMAR_UNKNOWN_EVENT = "stream.grammar.unknown-event" {
        severity: Info,
        title: "The stream sends an event type the protocol does not define.",
        doc: STREAMING,
        fix: "Nothing required (clients ignore unknown events); drop it unless Anthropic sends it too.",
    }
    STREAM_GRAMMAR_AFTER_ERROR = "stream.grammar.after-error" {
        severity: Should,
        title: "Events follow an `error` event, which ends the stream.",
        doc: ERRORS,
        fix: "Close the stream right after sending an `error` event.",
    }
    STREAM_GRAMMAR_AFTER_STOP = "stream.grammar.after-stop" {
        severity: Must,
        title: "Events follow `message_stop`, which must be the last event.",
        doc: STREAMING,
        fix: "Make `message_stop` the last event and close the stream after it.",
    }
    STREAM_GRAMMAR_FIRST_EVENT = "stream.grammar.first-event" {
        severity: Must,
        title: "The first event (pings aside) is not `message_start`.",
        doc: STREAMING,
        fix: "Open every stream with `message_start`.",
    }
    STREAM_GRAMMAR_MESSAGE_START_ONCE = "stream.grammar.message-start-once" {
        severity: Must,
        title: "The stream sends a second `message_start`.",
        doc: STREAMING,
        fix: "Send exactly one `message_start` per stream.",
    }
    STREAM_GRAMMAR_MESSAGE_START = "stream.grammar.message-start" {
        severity: Must,
        title: "`message_start` carries content or a stop reason, which belong to later events.",
        doc: STREAMING,
        fix: "Send `message_start` with `content: []` and `stop_reason: null`; stream blocks as events and set the stop reason in `message_delta`.",
    }
    STREAM_GRAMMAR_BLOCK_AFTER_MESSAGE_DELTA = "stream.grammar.block-after-message-delta" {
        severity: Must,
        title: "A content block starts after `message_delta`.",
        doc: STREAMING,
        fix: "Stream every content block before the `message_delta` that ends the message.",
    }
    STREAM_GRAMMAR_BLOCK_INDEX = "stream.grammar.block-index" {
        severity: Must,
        title: "Content block indices are not 0, 1, 2, … in order.",
        doc: STREAMING,
        fix: "Give each block the index of its position in the final `content` array, starting at 0.",
    }
    STREAM_GRAMMAR_BLOCK_START_ONCE = "stream.grammar.block-start-once" {
        severity: Must,
        title: "A content block index is started twice.",
        doc: STREAMING,
        fix: "Send one `content_block_start` per block index.",
    }
    STREAM_GRAMMAR_BLOCK_ORDER = "stream.grammar.block-order" {
        severity: Should,
        note: Some("reported only under the strict profile; `--profile tolerant` allows interleaved blocks"),
        title: "A content block starts while another one is still open.",
        doc: STREAMING,
        fix: "Stop each block with `content_block_stop` before starting the next; blocks do not interleave.",
    }
    STREAM_GRAMMAR_DELTA_OUTSIDE_BLOCK = "stream.grammar.delta-outside-block" {
        severity: Must,
        title: "A `content_block_delta` refers to a block that is not open.",
        doc: STREAMING,
        fix: "Send deltas only between the block's `content_block_start` and `content_block_stop`.",
    }
    STREAM_GRAMMAR_DELTA_TYPE = "stream.grammar.delta-type" {
        severity: Must,
        title: "A delta's type does not fit its block (e.g. `text_delta` in a `tool_use` block).",
        doc: STREAMING,
        fix: "Use `text_delta` for text, `input_json_delta` for tool_use, `thinking_delta`/`signature_delta` for thinking blocks.",
    }
    STREAM_GRAMMAR_SIGNATURE_ORDER = "stream.grammar.signature-order" {
        severity: Should,
        title: "Thinking continues after the block's `signature_delta`.",
        doc: THINKING,
        fix: "Send `signature_delta` once, as the last delta of the thinking block.",
    }
    STREAM_GRAMMAR_BLOCK_STOP = "stream.grammar.block-stop" {
        severity: Must,
        title: "`content_block_stop` refers to a block that is not open.",
        doc: STREAMING,
        fix: "Stop each started block exactly once, with its own index.",
    }
    STREAM_GRAMMAR_SIGNATURE = "stream.grammar.signature" {
        severity: Must,
        title: "A thinking block stops without a `signature_delta`, so clients cannot pass it back.",
        doc: THINKING,
        fix: "Send a `signature_delta` before stopping every thinking block.",
        contract: Some("Extended thinking documents a `signature_delta` before every thinking block stops and requires the block to be passed back with that signature, verified, to continue a tool-use turn; without one the round trip is unverifiable (Anthropic rejects it)."),
    }
    STREAM_GRAMMAR_UNCLOSED_BLOCK = "stream.grammar.unclosed-block" {
        severity: Must,
        exceptions: &[Exception { severity: Info, when: "the stop reason is `max_tokens`: Anthropic itself leaves a block cut by max_tokens unstopped" }],
        title: "`message_delta` arrives while content blocks are still open.",
        doc: STREAMING,
        fix: "Send `content_block_stop` for every open block before `message_delta`.",
    }
    STREAM_GRAMMAR_STOP_REASON = "stream.grammar.stop-reason" {
        severity: Must,
        title: "`message_delta` carries no stop reason.",
        doc: STREAMING,
        fix: "Set `delta.stop_reason` in `message_delta` (`end_turn`, `max_tokens`, `stop_sequence`, `tool_use`, …).",
    }
    STREAM_GRAMMAR_EMPTY = "stream.grammar.empty" {
        severity: Must,
        title: "The stream carries no events at all.",
        doc: STREAMING,
        fix: "Answer a streaming request with the full event sequence, from `message_start` to `message_stop`.",
    }
    STREAM_GRAMMAR_TRUNCATED = "stream.grammar.truncated" {
        severity: Must,
        title: "The stream ends without `message_stop`.",
        doc: STREAMING,
        fix: "Finish every stream with `message_delta` and `message_stop` (or an `error` event) before closing it.",
    }
    HTTP_RETRIED = "http.retried" {
        severity: Should,
        title: "The request needed more than one attempt (rate limited, overloaded, timed out or dropped: the finding says which).",
        doc: RATE_LIMITS,
        fix: "Give the endpoint capacity for the test's request rate, and send `retry-after` with 429 and 529 answers.",
    }
    TRANSPORT_INCOMPLETE = "transport.incomplete" {
        severity: Must,
        title: "The response was cut off before its body was complete.",
        doc: STREAMING,
        fix: "Keep the connection open until the body is complete; check proxy and load-balancer timeouts.",
    }
    TRANSPORT_BODY_LIMIT = "transport.body-limit" {
        severity: Should,
        title: "The response exceeded conform's body limit and was cut (no conformance statement).",
        doc: STREAMING,
        fix: "Check that the response ends (an endless stream is a bug); for a legitimately large one raise `--max-body-mb`.",
    }
    HTTP_SERVER_ERROR = "http.server-error" {
        severity: Must,
        note: Some("Reported by the runner when a 5xx (529 overloaded aside) repeated on every retry of one request while the target answered other requests with other statuses; when every recent request failed too, the result is `error` instead. Severity from the clients' handling, measured by hand (not in the calibration: it is a runner check): the Python SDK 2.17 retried the 500 of the reference server with `5xx-on-block-content` twice, then raised `InternalServerError`, in both modes, so every request of this kind fails in the application."),
        title: "The endpoint answered this request with a server error (5xx) on every attempt while it answered other requests: the clients raise on it.",
        doc: ERRORS,
        fix: "Find why this request makes the server fail (the request is in the evidence; the other requests of the run were answered): answer it, or reject what the endpoint does not support with a 4xx error that says so.",
    }
}
