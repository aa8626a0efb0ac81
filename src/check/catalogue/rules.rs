//! Catalogue entries of the rules the scenario library states: each is the `check:` of the
//! scenario assertions that prove it (or a step's `status_check:`), so a failure reads as what
//! is wrong — "stop_reason is end_turn although a stop sequence cut the text" — and groups by
//! meaning across scenarios instead of by assertion operator. Every id here is named by at
//! least one scenario of `scenarios/anthropic/` (a test holds it).

use super::Exception;
use super::docs::{
    CACHING, CITATIONS, CONTEXT_EDITING, COUNT_TOKENS, EFFORT, ERRORS, IMPLEMENT_TOOL_USE,
    MESSAGES, MODELS, RATE_LIMITS, SEARCH_RESULTS, STOP_REASONS, STRUCTURED, THINKING, WEB_SEARCH,
};
use super::families::SCENARIO_SEVERITY;
use crate::check::Severity::{Info, Must, Should};

declare! {
    STOP_REASON_END_TURN_AFTER_STOP_SEQUENCE = "stop.reason-end-turn-after-stop-sequence" {
        severity: Must,
        title: "`stop_reason` is not `stop_sequence` (typically `end_turn`) although a stop sequence cut the text.",
        doc: STOP_REASONS,
        fix: "When generation stops at one of the request's `stop_sequences`, report `stop_reason: stop_sequence` (translators: map the upstream's stop/finish reason for a matched stop string to `stop_sequence`, not `end_turn`).",
        contract: Some("The stop-reason documentation defines `stop_sequence` as the reason when one of the request's stop sequences was generated; an application that branches on it (to continue, or to parse a delimited section) takes the text as complete."),
    }
    STOP_SEQUENCE_NOT_ECHOED = "stop.sequence-not-echoed" {
        severity: Must,
        title: "The text was cut at a stop sequence but `stop_sequence` does not name the sequence that matched.",
        doc: STOP_REASONS,
        fix: "Set `stop_sequence` to the request's sequence that matched (null only when the stop reason is not `stop_sequence`).",
        contract: Some("The Messages API documents `stop_sequence` as the custom stop sequence that was generated; with several sequences the application cannot tell which one ended the text."),
    }
    AUTH_INVALID_KEY_ACCEPTED = "auth.invalid-key-accepted" {
        severity: Must,
        title: "A request with a wrong API key, or with none, was answered instead of rejected with 401.",
        doc: ERRORS,
        fix: "Check the key on every request and answer a missing or unknown one with 401 `authentication_error`.",
        contract: Some("The errors documentation answers a missing or invalid API key with 401 `authentication_error`; an endpoint that serves any caller exposes its upstream quota, and a client with a wrong key never learns of it."),
    }
    MODEL_UNKNOWN_ACCEPTED = "model.unknown-accepted" {
        severity: Must,
        title: "A request for a model that does not exist was answered (by another model) instead of rejected with 404.",
        doc: ERRORS,
        fix: "Answer a model name the endpoint does not serve with 404 `not_found_error`; map only documented aliases.",
        contract: Some("The errors documentation answers an unknown model with 404 `not_found_error`; an application with a mistyped or retired model name silently gets another model's answers."),
    }
    THINKING_SIGNATURE_UNCHECKED = "thinking.signature-unchecked" {
        severity: Must,
        title: "A thinking block passed back with edited text was accepted: its signature is not verified.",
        doc: THINKING,
        fix: "Verify the signature of every thinking block passed back and reject a block whose text does not match it with 400 `invalid_request_error`.",
        contract: Some("Extended thinking documents that the signature verifies thinking blocks passed back in a tool-use turn; an endpoint that does not check it lets a caller put words in the model's reasoning."),
    }
    MODEL_NOT_ECHOED = "model.not-echoed" {
        severity: Should,
        title: "The response's `model` is not the model the request named (e.g. provider-prefixed).",
        doc: MESSAGES,
        fix: "Echo the requested model name in `model` (an alias may resolve to its dated name).",
    }
    // The rules of the answers the library asks for, then of the rejections it provokes, then of
    // the other endpoints (count_tokens, models) and headers.
    ANSWER_NOT_A_MESSAGE = "answer.not-a-message" {
        severity: Must,
        title: "A Messages request was answered with something that is not a Message (`type` is not `message`, or `role` is not `assistant`).",
        doc: MESSAGES,
        fix: "Answer `POST /v1/messages` with a Message object: `type: message`, `role: assistant` (translators: convert the upstream's completion object instead of passing it through).",
        contract: Some("The Messages API documents the response as a Message with `type: message` and `role: assistant`; an application that appends the answer to the conversation sends a wrong role back."),
    }
    ANSWER_EMPTY = "answer.empty" {
        severity: Must,
        title: "The answer's `content` is empty, or its text is, although the request asks for a reply.",
        doc: MESSAGES,
        fix: "Return the generated blocks in `content` (translators: keep the upstream's text when converting; an empty list only when the model produced nothing and said so with its stop reason).",
        contract: Some("The Messages API documents `content` as the blocks the model generated; an application that reads `content[0]` gets nothing, or fails on a missing block."),
    }
    ANSWER_NO_TEXT = "answer.no-text" {
        severity: Must,
        title: "A request that asks for a text reply got no text block, or a block of another type where the text belongs.",
        doc: MESSAGES,
        fix: "Answer a plain prompt with `text` blocks (after any `thinking` block); do not wrap the text in another block type or drop it when converting the upstream's answer.",
        contract: Some("The Messages API documents text answers as `text` content blocks; an application that reads the first text block gets nothing."),
    }
    STOP_REASON_END_TURN = "stop.reason-end-turn" {
        severity: Must,
        title: "A finished answer does not report `stop_reason: end_turn` (`max_tokens` when cut at the limit, `tool_use` when it calls a tool).",
        doc: STOP_REASONS,
        fix: "Report `end_turn` when the model finished on its own, `max_tokens` when the limit cut it and `tool_use` when it ends with a tool call (translators: map the upstream's finish reason — `stop` → `end_turn`, `length` → `max_tokens`, `tool_calls` → `tool_use`).",
        contract: Some("The stop-reason documentation defines these values; an application that loops until `end_turn` or continues after `max_tokens` takes a wrong branch."),
    }
    USAGE_OUTPUT_TOKENS_ZERO = "usage.output-tokens-zero" {
        severity: Must,
        title: "An answer with content reports no output tokens.",
        doc: MESSAGES,
        fix: "Report the tokens generated in `usage.output_tokens` (in a stream, in the final `message_delta`).",
        contract: Some("The Messages API documents `usage.output_tokens` as the tokens the answer used; billing and context accounting that read it count nothing."),
    }
    ANSWER_UNDOCUMENTED_FIELDS = "answer.undocumented-fields" {
        severity: Should,
        title: "The answer carries top-level fields Anthropic does not document (an adapter's leftovers such as `choices` or `object`).",
        doc: MESSAGES,
        fix: "Build the response from the documented fields only; drop the upstream's own fields when translating.",
    }
    TOOLS_PARALLEL_CALLS_MISSING = "tools.parallel-calls-missing" {
        severity: Info,
        title: "Only one tool was called although the prompt asked for two independent calls (parallel tool use may be turned off upstream, or the model chose so).",
        doc: IMPLEMENT_TOOL_USE,
        fix: "Pass parallel tool calls through: several tool_use blocks in one answer, unless the request sets `disable_parallel_tool_use`.",
    }
    STRUCTURED_TEXT_BLOCKS = "structured.text-blocks" {
        severity: Must,
        title: "A structured-output answer does not come as exactly one text block holding the JSON.",
        doc: STRUCTURED,
        fix: "Return the JSON of a structured-output answer in a single `text` block (do not split it across blocks).",
        contract: Some("Structured outputs document the JSON as the response's text; an application that parses the first text block gets a fragment."),
    }
    CACHING_ACCOUNTING = "caching.accounting" {
        severity: Must,
        title: "Prompt-caching usage does not add up: `input_tokens` still counts the cached prefix, or more tokens are read from the cache than the prompt has.",
        doc: CACHING,
        fix: "Count in `input_tokens` only the tokens after the last cache breakpoint; report cached tokens in `cache_read_input_tokens` / `cache_creation_input_tokens`, never more than the prompt has.",
        contract: Some("Prompt caching documents that total input = `input_tokens` + `cache_creation_input_tokens` + `cache_read_input_tokens`; cost accounting that sums them counts the prefix twice."),
    }
    CACHING_BELOW_MINIMUM = "caching.below-minimum-cached" {
        severity: Must,
        title: "A prompt shorter than the minimum cacheable length was reported as written to or read from the cache.",
        doc: CACHING,
        fix: "Do not cache (nor report cache tokens for) a prefix below the model's minimum cacheable length; report its tokens in `input_tokens`.",
        contract: Some("Prompt caching documents that shorter prompts are processed without caching, even with `cache_control`; the reported cache counts are then invented."),
    }
    CACHING_TTL_1H_NOT_REPORTED = "caching.ttl-1h-not-reported" {
        severity: Should,
        title: "A 1-hour cache write is not reported in `usage.cache_creation.ephemeral_1h_input_tokens`.",
        doc: CACHING,
        fix: "Report a cache write with `ttl: 1h` under `cache_creation.ephemeral_1h_input_tokens` (and 5-minute writes under `ephemeral_5m_input_tokens`).",
    }
    // Rejections: what a request that must be rejected gets back.
    REQUEST_INVALID_ACCEPTED = "request.invalid-accepted" {
        severity: Must,
        title: "An invalid request was answered instead of rejected with 400 `invalid_request_error`.",
        doc: ERRORS,
        fix: "Validate the request as the Messages API does (roles, empty content, missing `max_tokens`, parameter ranges, media types, thinking budgets) and answer a violation with 400 `invalid_request_error` rather than passing it on or ignoring it.",
        contract: Some("The errors documentation answers a request with an invalid format or content with 400 `invalid_request_error`; an application never learns that its request was wrong and gets an answer to something else."),
    }
    ERROR_WRONG_TYPE = "error.wrong-type" {
        severity: Must,
        title: "A rejection carries another `error.type` than the documented one for its cause (`invalid_request_error`, `authentication_error`, `not_found_error`).",
        doc: ERRORS,
        fix: "Set `error.type` to the documented type of the cause: `invalid_request_error` for an invalid request, `authentication_error` for a missing or wrong key, `not_found_error` for an unknown model or resource.",
        contract: Some("The errors documentation lists one `error.type` per cause; an application that branches on it takes the wrong branch."),
    }
    ERROR_BODY_SHAPE = "error.body-shape" {
        severity: Must,
        title: "An error answer's body is not `{type: error, error: {type, message}}`.",
        doc: ERRORS,
        fix: "Answer errors with the documented JSON body `{\"type\": \"error\", \"error\": {\"type\": …, \"message\": …}}` (translators: convert the upstream's error object rather than passing it through).",
        contract: Some("The errors documentation defines this body; the official clients read the error's type and message from it, and an application logs nothing useful without them."),
    }
    // The other endpoints and the response headers.
    COUNT_TOKENS_ZERO = "count-tokens.zero" {
        severity: Must,
        title: "count_tokens counts no input tokens for a prompt that has some.",
        doc: COUNT_TOKENS,
        fix: "Count the prompt's tokens (system, messages, tools) with the model's tokenizer and return them in `input_tokens`.",
        contract: Some("Token counting documents `input_tokens` as the prompt's token count; an application that budgets its context with it overflows."),
    }
    COUNT_TOKENS_DISAGREES = "count-tokens.disagrees-with-usage" {
        severity: Must,
        exceptions: &[Exception { severity: Info, when: "the scenario only notes that the counts are not exactly equal (count_tokens is documented as an estimate)" }],
        title: "count_tokens and the answer's `usage.input_tokens` for the same prompt disagree beyond the measured tolerance.",
        doc: COUNT_TOKENS,
        fix: "Count tokens with the same tokenizer and prompt assembly (system, tools, images) that the Messages endpoint bills.",
        contract: Some("Token counting documents its count as an estimate of what the same Messages request uses; an application that budgets its context with it overflows or truncates needlessly."),
    }
    MODELS_WRONG_ID = "models.wrong-id" {
        severity: Must,
        title: "GET /v1/models/{model_id} answers with another model than the one asked for.",
        doc: MODELS,
        fix: "Return the model object whose `id` is the requested id (an alias may resolve to its dated id).",
        contract: Some("The Models API documents that getting a model by id returns that model; an application checking a model's availability is told about another one."),
    }
    MODELS_FIELD_MISSING = "models.field-missing" {
        severity: Should,
        title: "A model object lacks `display_name` or `created_at`.",
        doc: MODELS,
        fix: "Return `display_name` and `created_at` (RFC 3339) on every model object.",
    }
    MODELS_LIST_EMPTY = "models.list-empty" {
        severity: Must,
        title: "GET /v1/models lists no model although the endpoint serves some.",
        doc: MODELS,
        fix: "List the models the endpoint serves in `data`.",
        contract: Some("The Models API documents the list of available models; a client that picks a model from it (Claude Code's model picker) finds none."),
    }
    MODELS_LIMIT_IGNORED = "models.limit-ignored" {
        severity: Must,
        title: "`limit` on GET /v1/models was not honoured.",
        doc: MODELS,
        fix: "Return at most `limit` models and set `has_more`, `first_id` and `last_id` for paging.",
        contract: Some("The Models API documents `limit` and cursor paging; a client that pages through the list gets duplicates or loops."),
    }
    MODELS_CONFIGURED_MISSING = "models.configured-model-missing" {
        severity: Should,
        title: "The model the target is configured with is not in GET /v1/models.",
        doc: MODELS,
        fix: "List every model the endpoint accepts in /v1/models, including aliases it maps.",
    }
    HEADERS_RATELIMIT = "headers.ratelimit" {
        severity: Should,
        title: "The `anthropic-ratelimit-*` headers are missing or not positive numbers.",
        doc: RATE_LIMITS,
        fix: "Send `anthropic-ratelimit-requests-limit`, `-requests-remaining`, `-tokens-limit` (and their reset times) with the limits that apply to the caller, or the upstream's.",
    }
    // Agent loops (`agent-loop/`): a turn that continues a tool loop, named by its step.
    AGENT_LOOP_PASSBACK_REJECTED = "agent-loop.passback-rejected" {
        severity: Must,
        title: "A turn of a tool loop that passes back the earlier assistant turns as they came (thinking or redacted_thinking blocks with their signatures, tool_use blocks) was rejected.",
        doc: THINKING,
        fix: "Accept thinking and redacted_thinking blocks in assistant turns of the history and pass them to the model unchanged (translators: map them to the upstream's reasoning field, or drop them before forwarding, rather than rejecting the request).",
        contract: Some("Extended thinking with tool use documents that the thinking blocks of the turn that called a tool are passed back, unmodified, with the tool results; every agent built on the SDKs or Claude Code does so, and its loop stops at the first tool call."),
    }
    AGENT_LOOP_HISTORY_WITHOUT_THINKING_REJECTED = "agent-loop.history-without-thinking-rejected" {
        severity: Must,
        title: "With thinking on, a request whose history holds an earlier, completed tool turn without its thinking block was rejected (e.g. `reasoning_content is missing in assistant tool call message`).",
        doc: THINKING,
        fix: "Require thinking blocks only in the current tool loop (the last assistant turn answered by tool results); accept earlier assistant turns without them, as the thinking of earlier turns may be omitted.",
        contract: Some("Extended thinking documents that thinking blocks of previous turns may be left out (they are not part of the context); a client that trims them, or resumes a session recorded without thinking, is rejected."),
    }
    EFFECT_THINKING_AFTER_TOOL_TURN = "effect.thinking-after-tool-turn" {
        severity: Must,
        title: "Thinking stopped after the first tool turn: the loop's first turn thought, the answers to tool results do not.",
        doc: THINKING,
        fix: "Keep thinking on for every request of a tool loop that enables it (with the interleaved-thinking beta, thinking may follow each tool result); do not drop the `thinking` parameter when the request carries tool results.",
        contract: Some("Interleaved thinking documents thinking between tool calls, after each tool result; an agent that relies on it reasons only once, before its first call."),
    }
    // Request parameters documented as supported or ignored (issue 25).
    EFFECT_EFFORT = "effect.effort" {
        severity: Must,
        exceptions: SCENARIO_SEVERITY,
        title: "`output_config.effort` was accepted but had no effect: a lower effort did not spend fewer output tokens.",
        doc: EFFORT,
        fix: "Forward `output_config.effort` to the model (or map it to the upstream's reasoning effort); reject it with a 400 if the model does not support it.",
        contract: Some("The effort documentation defines lower effort as fewer tokens spent on text, tool calls and thinking; an application that lowers effort for cost or latency pays for the full effort."),
    }
    REQUEST_DOCUMENTED_FIELD_REJECTED = "request.documented-field-rejected" {
        severity: Must,
        title: "A request carrying a documented optional parameter (`metadata`, `service_tier`, `inference_geo`, …) was rejected with a 4xx instead of accepted.",
        doc: MESSAGES,
        fix: "Accept the documented top-level parameters of the Messages API; one the endpoint cannot honour is ignored (and documented so), not rejected as an extra input.",
        contract: Some("The Messages API documents these parameters as optional fields of the request; the official clients send `metadata.user_id` (Claude Code on every request) and an endpoint that rejects them fails every such call."),
    }
    EFFECT_CONTEXT_EDITING = "effect.context-editing" {
        severity: Must,
        exceptions: SCENARIO_SEVERITY,
        title: "`context_management` edits were accepted but not applied: no cleared tool uses in `context_management.applied_edits`, or the input tokens did not drop.",
        doc: CONTEXT_EDITING,
        fix: "Apply the request's context edits before the prompt reaches the model (clear the oldest tool results past the trigger, keeping the last `keep` tool uses), report them in `context_management.applied_edits` and count the edited prompt in `usage`; reject `context_management` with a 400 if the endpoint cannot apply it.",
        contract: Some("Context editing documents that tool results past the trigger are cleared server-side and reported in `applied_edits`; an agent that relies on it to stay within the context window overflows it and pays for the full prompt."),
    }
    EFFECT_HISTORY = "effect.history" {
        severity: Must,
        exceptions: SCENARIO_SEVERITY,
        title: "The earlier turns of a conversation did not reach the model: a conversation was counted as no more input than its newest turn alone.",
        doc: MESSAGES,
        fix: "Forward every message of the request, in order, to the model (user and assistant turns, string or block content); the Messages API is stateless and each request carries the whole conversation.",
        contract: Some("The Messages API documents that each request carries the full conversation and the model answers all of it; an agent or chat that loses the earlier turns gets well-formed answers that have forgotten the task, its tool results and the user's instructions."),
    }
    // Server tools, pause_turn and citations.
    SERVER_TOOLS_RESULT_MISSING = "server-tools.result-missing" {
        severity: Must,
        title: "A `server_tool_use` block came back without the tool's result block (`web_search_tool_result`, …) in a turn that was not paused.",
        doc: WEB_SEARCH,
        fix: "Run the server tool and return its result block after the call, with the call's id in `tool_use_id` (or stop with `pause_turn` when the loop is paused before the result).",
        contract: Some("The server-tool documentation returns each `server_tool_use` followed by its result block in the same answer; an application that renders the sources or passes the turn back finds a call with no result."),
    }
    USAGE_SERVER_TOOL_USE = "usage.server-tool-use" {
        severity: Should,
        title: "Server tools ran but `usage.server_tool_use` does not count them (`web_search_requests`, `web_fetch_requests`).",
        doc: WEB_SEARCH,
        fix: "Count each search and fetch the server ran in `usage.server_tool_use` (also in the stream's `message_delta` usage).",
    }
    STOP_PAUSE_TURN = "stop.pause-turn" {
        severity: Must,
        title: "A turn that ended on a server tool's call or result, with no answer after it, was reported as `end_turn` instead of `pause_turn`.",
        doc: STOP_REASONS,
        fix: "When the server-tool loop stops at its iteration limit, report `stop_reason: pause_turn` so the client sends the turn back to continue it.",
        contract: Some("The stop-reason documentation defines `pause_turn` for a long server-tool turn the client must continue by sending it back; an application told `end_turn` shows an unfinished turn as the answer."),
    }
    EFFECT_CITATIONS = "effect.citations" {
        severity: Must,
        title: "Citations were enabled on a document or search result but no text block of the answer carries a citation.",
        doc: CITATIONS,
        fix: "Forward `citations: {enabled: true}` to the model and return its citations on the text blocks (as `citations_delta` events in a stream).",
        contract: Some("The citations documentation returns, for sources with citations enabled, text blocks whose `citations` point into them; an application that shows or verifies sources gets none."),
    }
    CITATIONS_LOCATION = "citations.location" {
        severity: Must,
        title: "A citation is not of the type its source gives (char_location for plain text, content_block_location for custom content, search_result_location for a search result) or does not point at the source.",
        doc: SEARCH_RESULTS,
        fix: "Return each citation in the location type of its source, with the source's index, title and `cited_text` copied from it.",
        contract: Some("The citations and search-results documentation define one citation type per source type; a client that resolves a citation to its source cannot find it."),
    }
    REQUEST_SEARCH_RESULT_REJECTED = "request.search-result-rejected" {
        severity: Must,
        title: "A request with a `search_result` content block (in a user turn or a `tool_result`) was rejected with a 4xx instead of answered.",
        doc: SEARCH_RESULTS,
        fix: "Accept `search_result` blocks (source, title, text content, optional citations) in user turns and tool results, and pass them to the model as sources.",
        contract: Some("The search-results documentation defines `search_result` as a content block of user turns and tool results; a RAG application that passes its retrieved sources this way gets an error instead of an answer."),
    }
}
