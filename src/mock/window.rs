//! The model's context window (Anthropic docs: Context windows; Handling stop reasons): a
//! prompt longer than the window is rejected with 400 `prompt is too long`; a prompt that fits
//! but leaves less room than `max_tokens` is answered, and when generation reaches the window
//! it stops with `stop_reason: model_context_window_exceeded` (not `max_tokens`), as the
//! newer models do.

use std::borrow::Cow;

use serde_json::{Value, json};

use super::generate::Generated;

/// The context window of the reference server's models, in tokens.
pub(crate) const CONTEXT_WINDOW: u64 = 200_000;

/// The 400 message for a prompt of `input` tokens that does not fit the window.
pub(crate) fn too_long(input: u64) -> Option<String> {
    (input > CONTEXT_WINDOW)
        .then(|| format!("prompt is too long: {input} tokens > {CONTEXT_WINDOW} maximum"))
}

/// The request as generation sees it when `max_tokens` reaches past the window after a prompt
/// of `input` tokens: `max_tokens` lowered to the room left, and `true`. Borrowed and `false`
/// when it fits.
pub(crate) fn fit(body: &Value, input: u64) -> (Cow<'_, Value>, bool) {
    let room = CONTEXT_WINDOW.saturating_sub(input);
    match body.get("max_tokens").and_then(Value::as_u64) {
        Some(n) if n > room => {
            let mut b = body.clone();
            b["max_tokens"] = json!(room.max(1));
            (Cow::Owned(b), true)
        }
        _ => (Cow::Borrowed(body), false),
    }
}

/// An answer that a fitted request (`fitted`) cut at its lowered limit stopped at the window.
pub(crate) fn mark(g: &mut Generated, fitted: bool) {
    if fitted && g.stop_reason == "max_tokens" {
        g.stop_reason = "model_context_window_exceeded";
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::generate::generate;

    #[test]
    fn the_window_rejects_long_prompts_and_stops_generation() {
        assert!(too_long(CONTEXT_WINDOW).is_none());
        assert!(
            too_long(CONTEXT_WINDOW + 1)
                .unwrap()
                .starts_with("prompt is too long")
        );
        let body = json!({"model": "m", "max_tokens": 64000,
            "messages": [{"role": "user", "content": "Tell me a long story."}]});
        let (fits, lowered) = fit(&body, 1000);
        assert!(!lowered && matches!(fits, Cow::Borrowed(_)));
        let (near, lowered) = fit(&body, CONTEXT_WINDOW - 5);
        assert!(lowered);
        assert_eq!(near["max_tokens"], 5);
        let mut g = generate(&near, 0);
        assert_eq!(g.stop_reason, "max_tokens");
        mark(&mut g, lowered);
        assert_eq!(g.stop_reason, "model_context_window_exceeded");
        assert!(g.output_tokens <= 5);
    }
}
