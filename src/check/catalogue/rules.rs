//! Catalogue entries of the rules the scenario library states: each is the `check:` of the
//! scenario assertions that prove it (or a step's `status_check:`), so a failure reads as what
//! is wrong — "stop_reason is end_turn although a stop sequence cut the text" — and groups by
//! meaning across scenarios instead of by assertion operator. Every id here is named by at
//! least one scenario of `scenarios/anthropic/` (a test holds it).

use super::docs::{ERRORS, MESSAGES, STOP_REASONS, THINKING};
use crate::check::Severity::{Must, Should};

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
}
