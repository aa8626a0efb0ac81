//! Catalogue entries of a response as a whole: body and shape (`body.*`, `shape.*`,
//! `schema.*`), errors and headers, message semantics (`message.*`), what the request implies
//! (`implied.*`, `effect.*` checks made on every exchange), and conform's own scenario and
//! snapshot machinery.

use super::Exception;
use super::docs::{
    CACHING, CLAUDE_CODE_GATEWAY, COUNT_TOKENS, ERRORS, IMPLEMENT_TOOL_USE, MESSAGES, MODELS,
    OVERVIEW, PREFILL, RATE_LIMITS, STOP_REASONS, STREAMING, STRUCTURED, THINKING, TOOL_USE,
    VERSIONING,
};
use super::families::SCENARIO_SEVERITY;
use crate::check::Severity::{Info, Must, Should};

declare! {
    BODY_EMPTY = "body.empty" {
        severity: Must,
        title: "The response has no body.",
        doc: MESSAGES,
        fix: "Answer with a Message object (or an error object for a 4xx/5xx status).",
    }
    BODY_JSON = "body.json" {
        severity: Must,
        title: "A success response's body is not JSON.",
        doc: MESSAGES,
        fix: "Answer with a JSON Message object and `content-type: application/json`.",
    }
    BODY_ERROR_JSON = "body.error-json" {
        severity: Should,
        title: "An error response's body is not JSON (the clients still raise on the status, but lose the error type and message).",
        doc: ERRORS,
        fix: "Send errors as JSON with `content-type: application/json`: `{\"type\":\"error\",\"error\":{\"type\":…,\"message\":…}}`.",
    }
    SHAPE_UNKNOWN = "shape.unknown" {
        severity: Must,
        title: "The body matches none of the protocol's response shapes.",
        doc: MESSAGES,
        fix: "Answer with the object the endpoint documents: a Message, an error, a token count or a model list.",
    }
    ERROR_STATUS = "error.status" {
        severity: Must,
        title: "An error body comes with a success status.",
        doc: ERRORS,
        fix: "Send error objects with the 4xx/5xx status their `error.type` stands for.",
    }
    ERROR_STATUS_TYPE = "error.status-type" {
        severity: Must,
        exceptions: &[Exception { severity: Should, when: "the status is a 5xx the Anthropic API does not document (a wrong type or an undocumented 4xx stays must)" }],
        title: "The HTTP status and the error `type` do not go together, or the status is not one the API uses.",
        doc: ERRORS,
        fix: "Pair statuses and types as documented: 400 invalid_request_error, 401 authentication_error, 403 permission_error, 404 not_found_error, 413 request_too_large, 429 rate_limit_error, 500 api_error, 529 overloaded_error.",
        contract: Some("The errors documentation pairs each HTTP status with one error type; the SDKs choose the exception class from the status (422 is no `BadRequestError`, an unknown model as 500 is no `NotFoundError`) and retry 5xx, so an application catches the wrong error and a non-retryable request is retried."),
    }
    ERROR_WRONG_STATUS = "error.wrong-status" {
        severity: Must,
        title: "A request that must be rejected got another error status than the documented one (e.g. 400 instead of 404 for an unknown model).",
        doc: ERRORS,
        fix: "Answer each error cause with its documented status: 400 invalid request, 401 authentication, 403 permission, 404 not found (an unknown model), 413 request too large.",
        contract: Some("The errors documentation maps each cause to one status; the official clients raise a different exception class per status (`NotFoundError`, `BadRequestError`), so an application that handles one cause catches another."),
    }
    HEADERS_REQUEST_ID = "headers.request-id" {
        severity: Should,
        title: "The response has no `request-id` header.",
        doc: OVERVIEW,
        fix: "Send a unique `request-id` header with every response; SDKs expose it for support requests.",
    }
    HEADERS_CONTENT_TYPE = "headers.content-type" {
        severity: Must,
        title: "The content type does not match the body the request implies.",
        doc: STREAMING,
        fix: "Use `text/event-stream` for a 200 answer to `stream: true`, `application/json` for everything else.",
    }
    HEADERS_ERROR_CONTENT_TYPE = "headers.error-content-type" {
        severity: Should,
        title: "An error response is not labelled `application/json` (the clients raise on the status whatever the label).",
        doc: ERRORS,
        fix: "Send error bodies with `content-type: application/json`.",
    }
    HEADERS_RETRY_AFTER = "headers.retry-after" {
        severity: Should,
        title: "A 429 answer has no `retry-after` header.",
        doc: RATE_LIMITS,
        fix: "Send `retry-after` (seconds) with every 429 so clients can pace their retries.",
    }
    SCHEMA_REQUEST = "schema.request" {
        severity: Must,
        title: "A request body is not a valid Messages request.",
        doc: MESSAGES,
        fix: "Fix the scenario's request body (this check judges conform's own input, via `conform lint`).",
    }
    SCHEMA_COUNT_TOKENS_REQUEST = "schema.count_tokens_request" {
        severity: Must,
        title: "A request body is not a valid count_tokens request.",
        doc: COUNT_TOKENS,
        fix: "Fix the scenario's request body (this check judges conform's own input, via `conform lint`).",
    }
    SCHEMA_MESSAGE = "schema.message" {
        severity: Must,
        title: "The Message object does not match the protocol's schema (a field missing, of the wrong type, or an invalid value).",
        doc: MESSAGES,
        fix: "Send every required Message field with its documented type: id, type, role, content, model, stop_reason, stop_sequence, usage.",
    }
    SCHEMA_CONTENT_BLOCK = "schema.content_block" {
        severity: Must,
        title: "A content block does not match the protocol's schema.",
        doc: MESSAGES,
        fix: "Give each content block its documented fields (`text` for text, `id`/`name`/`input` for tool_use, `thinking`/`signature` for thinking).",
    }
    SCHEMA_USAGE = "schema.usage" {
        severity: Must,
        title: "The usage object does not match the protocol's schema.",
        doc: MESSAGES,
        fix: "Report `input_tokens` and `output_tokens` as non-negative integers, and the cache counts as integers.",
    }
    SCHEMA_ERROR = "schema.error" {
        severity: Should,
        title: "The error body does not match the protocol's schema.",
        doc: ERRORS,
        fix: "Send errors as `{\"type\":\"error\",\"error\":{\"type\":…,\"message\":…}}`.",
    }
    SCHEMA_COUNT_TOKENS = "schema.count_tokens" {
        severity: Must,
        title: "The count_tokens answer does not match the protocol's schema.",
        doc: COUNT_TOKENS,
        fix: "Answer `/v1/messages/count_tokens` with `{\"input_tokens\": <integer>}`.",
    }
    SCHEMA_MODEL_LIST = "schema.model_list" {
        severity: Must,
        title: "The model list does not match the protocol's schema.",
        doc: MODELS,
        fix: "Answer `/v1/models` with `data`, `has_more`, `first_id` and `last_id`, each model with id, type, display_name and created_at.",
    }
    SCHEMA_MODEL = "schema.model" {
        severity: Must,
        title: "A model object does not match the protocol's schema.",
        doc: MODELS,
        fix: "Give each model `type: \"model\"`, an `id`, a `display_name` and an RFC 3339 `created_at`.",
    }
    SCHEMA_MESSAGE_START_MESSAGE = "schema.message_start_message" {
        severity: Must,
        title: "The message in `message_start` does not match the protocol's schema.",
        doc: STREAMING,
        fix: "Send the full Message skeleton in `message_start`: id, type, role, model, empty content, null stop_reason and initial usage.",
    }
    SCHEMA_EVENT = "schema.event" {
        severity: Must,
        title: "An event payload is not an object with a string `type`.",
        doc: STREAMING,
        fix: "Send each event's data as a JSON object whose `type` names the event.",
    }
    SCHEMA_USER = "schema.user" {
        severity: Must,
        title: "A value does not match a schema the request supplied.",
        doc: TOOL_USE,
        fix: "Make tool inputs and structured outputs validate against the schema given in the request.",
    }
    SCHEMA_UNKNOWN_FIELD = "schema.unknown-field" {
        severity: Info,
        title: "The response carries a field the protocol does not define.",
        doc: MESSAGES,
        fix: "Nothing required (clients ignore unknown fields); drop it unless Anthropic sends it too.",
    }
    SCHEMA_MISSING_FIELD = "schema.missing-field" {
        severity: Should,
        title: "A field that Anthropic always sends is missing, though the official clients cope without it (fields added after the 2024 baseline, `stop_sequence` in `message_delta`).",
        doc: MESSAGES,
        fix: "Add the field with its documented default (e.g. `cache_creation_input_tokens: 0`, `service_tier`, `\"stop_sequence\": null`).",
    }
    SCHEMA_UNKNOWN_TYPE = "schema.unknown-type" {
        severity: Info,
        title: "A block, delta, event or error type is not one the protocol knows.",
        doc: MESSAGES,
        fix: "Nothing required when the type is a documented newer one; otherwise use the documented types.",
    }
    MESSAGE_STOP_SEQUENCE = "message.stop-sequence" {
        severity: Must,
        title: "`stop_sequence` and `stop_reason` disagree.",
        doc: STOP_REASONS,
        fix: "Set `stop_sequence` to the matched sequence exactly when `stop_reason` is `stop_sequence`, and to null otherwise.",
    }
    MESSAGE_STOP_REASON_TOOL_USE = "message.stop-reason-tool-use" {
        severity: Must,
        title: "`stop_reason` is `tool_use` without a tool_use block, or a tool_use block comes with another stop reason.",
        doc: STOP_REASONS,
        fix: "Set `stop_reason: tool_use` exactly when the message ends with tool calls; clients look at it to run the tools.",
        contract: Some("The stop-reason documentation defines `tool_use` as the reason when the model calls tools; agent loops (Claude Code, the SDKs' tool runners) decide on it whether to run the tools, so a wrong reason ends or continues the loop wrongly."),
    }
    MESSAGE_ID_PREFIX = "message.id-prefix" {
        severity: Should,
        title: "The message id does not start with `msg_`.",
        doc: MESSAGES,
        fix: "Give message ids the `msg_` prefix.",
    }
    MESSAGE_TOOL_ID_PREFIX = "message.tool-id-prefix" {
        severity: Should,
        title: "A tool_use id does not start with `toolu_`.",
        doc: TOOL_USE,
        fix: "Give tool_use ids the `toolu_` prefix.",
    }
    MESSAGE_USAGE_NULL_COUNT = "message.usage.null-count" {
        severity: Should,
        title: "A cache token count in usage is null instead of a number.",
        doc: CACHING,
        fix: "Send `cache_creation_input_tokens` and `cache_read_input_tokens` as integers, 0 when nothing was cached.",
    }
    MESSAGE_USAGE_CACHE_CREATION_SPLIT = "message.usage.cache-creation-split" {
        severity: Should,
        title: "The 5-minute and 1-hour parts of `cache_creation` do not add up to `cache_creation_input_tokens`.",
        doc: CACHING,
        fix: "Report the split so that `ephemeral_5m_input_tokens + ephemeral_1h_input_tokens` equals the total.",
    }
    IMPLIED_TOOL_NAME = "implied.tool-name" {
        severity: Must,
        title: "The model called a tool the request did not define.",
        doc: TOOL_USE,
        fix: "Only return tool_use blocks naming tools from the request's `tools`.",
    }
    IMPLIED_TOOL_INPUT_SCHEMA = "implied.tool-input-schema" {
        severity: Must,
        exceptions: &[Exception { severity: Info, when: "the tool's `input_schema` itself does not compile (the input is then not checked)" }],
        title: "A tool call's input does not validate against the tool's `input_schema`.",
        doc: TOOL_USE,
        fix: "Return tool inputs that satisfy the tool's `input_schema` (constrain decoding or validate before answering).",
    }
    IMPLIED_THINKING_ORDER = "implied.thinking-order" {
        severity: Must,
        title: "Thinking blocks do not come before the text and tool blocks.",
        doc: THINKING,
        fix: "Put all thinking blocks first in `content`.",
    }
    IMPLIED_THINKING_SIGNATURE = "implied.thinking-signature" {
        severity: Must,
        title: "A thinking block has no signature, so it cannot be passed back in a tool round trip.",
        doc: THINKING,
        fix: "Give every thinking block a non-empty `signature` and accept it back in the next turn.",
        contract: Some("Extended thinking requires thinking blocks to be passed back unmodified with their signature, which the API verifies, to continue a tool-use turn; a block without a signature cannot take part in that documented round trip."),
    }
    IMPLIED_THINKING_UNREQUESTED = "implied.thinking-unrequested" {
        severity: Should,
        exceptions: &[Exception { severity: Info, when: "the request had no `thinking` field (newer models may think on their own; a request that disables thinking keeps should)" }],
        title: "A thinking block came back although thinking was not requested.",
        doc: THINKING,
        fix: "Return no thinking blocks when the request disables thinking.",
    }
    IMPLIED_STOP_SEQUENCE = "implied.stop-sequence" {
        severity: Must,
        title: "The reported stop sequence is not one of the request's, or it still appears in the text.",
        doc: STOP_REASONS,
        fix: "Report the request's sequence that matched in `stop_sequence` and cut the text before it.",
    }
    IMPLIED_STRUCTURED_OUTPUT_SCHEMA = "implied.structured-output-schema" {
        severity: Must,
        exceptions: &[Exception { severity: Info, when: "the requested schema itself does not compile (the output is then not checked)" }],
        title: "The JSON text does not validate against the requested output schema.",
        doc: STRUCTURED,
        fix: "Return text that validates against `output_config.format.schema` (constrained decoding).",
    }
    IMPLIED_MODEL_REWRITE = "implied.model-rewrite" {
        severity: Info,
        title: "The response names another model than the request.",
        doc: MESSAGES,
        fix: "Nothing required for an alias resolved to a dated name; otherwise echo the model that answered.",
    }
    IMPLIED_PREFILL_REPEATED = "implied.prefill-repeated" {
        severity: Should,
        title: "The answer repeats the assistant prefill instead of continuing it.",
        doc: PREFILL,
        fix: "Continue from the end of the final assistant message; do not repeat it in the answer.",
    }
    EFFECT_TOOL_CHOICE = "effect.tool-choice" {
        severity: Must,
        title: "`tool_choice` was not honoured (no tool call, the wrong tool, or a call under `none`).",
        doc: IMPLEMENT_TOOL_USE,
        fix: "Pass `tool_choice` to the model: `any` forces some tool, `tool` forces the named one, `none` forbids tools.",
        contract: Some("The tool-use documentation defines `tool_choice` (`any` and `tool` force a call, `none` forbids one); an application that forces a tool gets prose instead of the call it relies on."),
    }
    EFFECT_PARALLEL_TOOL_USE = "effect.parallel-tool-use" {
        severity: Must,
        title: "More than one tool call came back although `disable_parallel_tool_use` was set.",
        doc: IMPLEMENT_TOOL_USE,
        fix: "Return at most one tool_use block when `tool_choice.disable_parallel_tool_use` is true.",
        contract: Some("The tool-use documentation defines `disable_parallel_tool_use: true` as at most one tool call per answer; an application that relies on it runs several."),
    }
    EFFECT_THINKING = "effect.thinking" {
        severity: Must,
        // Also the id of the scenario effect checks of the feature of the same name.
        exceptions: SCENARIO_SEVERITY,
        title: "Thinking was enabled but no thinking block came back.",
        doc: THINKING,
        fix: "Forward the `thinking` parameter to the model and return its thinking blocks.",
        contract: Some("Extended thinking defines `thinking: {type: enabled}` as answers that start with thinking blocks within the given budget; the feature the request asked for is silently absent."),
    }
    EFFECT_STOP_SEQUENCES = "effect.stop-sequences" {
        severity: Must,
        // Also the id of the scenario effect checks of the feature of the same name.
        exceptions: SCENARIO_SEVERITY,
        title: "The text runs through a requested stop sequence: `stop_sequences` had no effect.",
        doc: MESSAGES,
        fix: "Forward `stop_sequences` to generation and stop at the first match with `stop_reason: stop_sequence`.",
        contract: Some("The Messages API defines `stop_sequences` as ending generation at the first match with `stop_reason: stop_sequence`; the application gets text past the point it asked to stop at."),
    }
    EFFECT_STRUCTURED_OUTPUT = "effect.structured-output" {
        severity: Must,
        // Also the id of the scenario effect checks of the feature of the same name.
        exceptions: SCENARIO_SEVERITY,
        title: "Structured output was requested but the text is not JSON.",
        doc: STRUCTURED,
        fix: "Honour `output_config.format`: return only the JSON document, with no prose around it.",
        contract: Some("Structured outputs define the answer as JSON that validates against the requested schema; the application's parse of the text fails although the request succeeded."),
    }
    EFFECT_MAX_TOKENS = "effect.max-tokens" {
        severity: Must,
        // Also the id of the scenario effect checks of the feature of the same name.
        exceptions: SCENARIO_SEVERITY,
        title: "More output tokens than `max_tokens` allows.",
        doc: MESSAGES,
        fix: "Stop generation at `max_tokens` and report `stop_reason: max_tokens`.",
        contract: Some("The Messages API defines `max_tokens` as the maximum number of tokens to generate; more output than allowed breaks the caller's cost and length bounds."),
    }
    SCENARIO_TEMPLATE = "scenario.template" {
        severity: Must,
        title: "A scenario's request could not be rendered (a template refers to something unknown).",
        doc: MESSAGES,
        fix: "Fix the scenario file (a conform input problem, not the endpoint's): check the names its templates use.",
    }
    ERROR_TYPE_UNKNOWN = "error.type-unknown" {
        severity: Should,
        title: "An error carries an `error.type` that Anthropic does not use.",
        doc: ERRORS,
        fix: "Map every error to one of Anthropic's types (invalid_request_error, authentication_error, permission_error, not_found_error, rate_limit_error, api_error, overloaded_error, …).",
    }
    MESSAGE_ID_FORM = "message.id-form" {
        severity: Should,
        title: "The message id starts with `msg_` but is not in Anthropic's form (a uuid, a timestamp).",
        doc: MESSAGES,
        fix: "Generate ids as `msg_` followed by 20+ base-62 characters.",
    }
    MESSAGE_ID_REUSED = "message.id-reused" {
        severity: Should,
        title: "The same message id answered two different requests in one run.",
        doc: MESSAGES,
        fix: "Give every response its own id; clients and logs key on it.",
    }
    MESSAGE_MODES_DISAGREE = "message.modes-disagree" {
        severity: Should,
        title: "The streamed and the non-streamed answer to the same request disagree in what the request determines (a forced block type, token accounting).",
        doc: STREAMING,
        fix: "Serve both modes from the same generation path and count output tokens the same way in both.",
    }
    MESSAGE_INPUT_TOKENS_ZERO = "message.input-tokens-zero" {
        severity: Must,
        contract: Some("`usage.input_tokens` is the documented accounting of the prompt; a client that tracks its context window or cost (Claude Code compacts by it) reads 0 for a prompt that has tokens"),
        title: "An answer counts no input tokens for a prompt that has some (the other mode's answer to the same request counts them, or the scenario's prompt is not empty).",
        doc: STREAMING,
        fix: "Send the prompt's token count in `message_start.usage.input_tokens` (and, if the stream repeats it, in `message_delta.usage`), as the non-streamed answer does.",
    }
    PROBE_INCONCLUSIVE = "probe.inconclusive" {
        severity: Info,
        title: "The model did not produce what this probe needs, so the feature could not be judged.",
        doc: MESSAGES,
        fix: "Nothing to fix in the endpoint for this finding: the answer was legal. Re-run, or use a model that follows the probe's instruction (e.g. counting), to get a verdict.",
    }
    SCENARIO_CAPTURE = "scenario.capture" {
        severity: Must,
        title: "A value the scenario captures for a later step is missing from the response.",
        doc: MESSAGES,
        fix: "Return the field the scenario captures (e.g. a tool_use id); if the field is optional, fix the scenario.",
    }
    PROVIDER_DOCUMENTED_CLAIM = "provider.documented-claim" {
        severity: Must,
        title: "The provider documents this feature as supported, but the endpoint failed, ignored or rejected it.",
        doc: MESSAGES,
        fix: "Make the endpoint do what its documentation says, or correct the documentation (and the provider profile).",
    }
    SNAPSHOT_NEW = "snapshot.new" {
        severity: Info,
        title: "No accepted snapshot exists yet for this case.",
        doc: MESSAGES,
        fix: "Review the pending snapshot and accept it with `conform snapshots accept`.",
    }
    SNAPSHOT_UPDATED = "snapshot.updated" {
        severity: Info,
        title: "The normalised response shape changed and the snapshot was updated as asked.",
        doc: MESSAGES,
        fix: "Review the updated snapshot in version control.",
    }
    SNAPSHOT_CHANGED = "snapshot.changed" {
        severity: Should,
        title: "The normalised response shape changed since the accepted snapshot.",
        doc: MESSAGES,
        fix: "Find what changed in the endpoint's answers; accept the new snapshot if the change is intended.",
    }
    SNAPSHOT_ERROR = "snapshot.error" {
        severity: Should,
        exceptions: &[Exception { severity: Info, when: "the snapshot store could not be set up for the run (one case's snapshot that could not be compared stays should)" }],
        title: "The snapshot could not be read, compared or written.",
        doc: MESSAGES,
        fix: "Check the snapshot directory (permissions, a malformed .snap file); this is a conform setup problem.",
    }
    CLIENT_EXIT = "client.exit" {
        severity: Must,
        title: "A real client (Claude Code) failed on the endpoint's answers: it exited non-zero or printed nothing.",
        doc: CLAUDE_CODE_GATEWAY,
        fix: "Read the client's stderr in the finding and the findings of the exchanges it made; fix those first.",
    }
    AUTH_STYLE_REJECTED = "auth.style-rejected" {
        severity: Must,
        note: Some("Reported when a step that sends the key in another style than the target's own (`auth: bearer` or `auth: x-api-key`) gets 401/403, and by the run's preflight when the target's own style is rejected but the other accepted (the run then goes on in the accepted style; only when no style is accepted is the target stopped). Severity from the clients' handling, measured by hand (not in the calibration: it is a runner check): the Python SDK 2.17 sends even an `api_key` as `Authorization: Bearer` and raised `AuthenticationError` on every request to the reference server with `bearer-rejected`; clients configured with `auth_token` (Claude Code with `ANTHROPIC_AUTH_TOKEN`) send Bearer too."),
        title: "The endpoint rejects the API key when it is sent in the other auth style (`x-api-key` or `Authorization: Bearer`).",
        doc: OVERVIEW,
        fix: "Accept the key both as `x-api-key` and as `Authorization: Bearer KEY`: current SDK majors send Bearer (the Python SDK 2.x even for `api_key`), as does Claude Code with `ANTHROPIC_AUTH_TOKEN`.",
    }
    VERSION_CURRENT_REJECTED = "version.current-rejected" {
        severity: Must,
        note: Some("Reported by the run's preflight: a request with `anthropic-version: 2026-10-21` was rejected while the same request with `2023-06-01` was accepted (the run then goes on with 2023-06-01, so every other feature still gets a verdict). Severity from the clients' handling: today's SDKs (Python 2.x, TypeScript 1.x) send 2026-10-21 on every request and raise the 4xx. Not yet in the calibration (the fault `new-version-rejected` needs a run of the 2.x SDKs)."),
        title: "The endpoint rejects `anthropic-version: 2026-10-21`, the version today's SDKs send, while it accepts 2023-06-01.",
        doc: VERSIONING,
        fix: "Accept `anthropic-version: 2026-10-21` as well as 2023-06-01 (apply its documented changes: sampling parameters, `document` blocks in assistant turns and citations on user text are rejected under it).",
    }
    MESSAGE_REFUSAL_STOP_DETAILS = "message.refusal-without-stop-details" {
        severity: Should,
        title: "A refusal (`stop_reason: refusal`) carries no `stop_details` saying why.",
        doc: STOP_REASONS,
        fix: "Send `stop_details: {type: refusal, category, explanation}` with a refusal (in a stream, in the `message_delta` delta), as Anthropic does; `category` and `explanation` may be null.",
    }
}
