//! Unit tests of the deterministic generator.

mod basics {
    use super::super::*;

    fn req(extra: Value) -> Value {
        let mut b = json!({"model": "conform-mock", "max_tokens": 1024,
            "messages": [{"role": "user", "content": "What's the weather like in Hangzhou today?"}]});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    }

    fn weather_tool() -> Value {
        json!([{"name": "get_weather", "description": "Get weather", "input_schema":
            {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
    }

    #[test]
    fn same_request_same_answer_and_seed_changes_words_not_shape() {
        let a = generate(&req(json!({})), 0);
        assert_eq!(a, generate(&req(json!({})), 0));
        let b = generate(&req(json!({})), 7);
        assert_ne!(a.id, b.id);
        assert_eq!(a.blocks.len(), b.blocks.len());
        assert_eq!(a.stop_reason, b.stop_reason);
        let with_stream = generate(&req(json!({"stream": true})), 0);
        assert_eq!(a, with_stream);
    }

    #[test]
    fn auto_tool_choice_calls_the_matching_tool_with_a_valid_input() {
        let g = generate(&req(json!({"tools": weather_tool()})), 0);
        assert_eq!(g.stop_reason, "tool_use");
        let Some(Block::ToolUse {
            name, input, id, ..
        }) = g.blocks.last()
        else {
            panic!("{g:?}")
        };
        assert_eq!(name, "get_weather");
        assert!(id.starts_with("toolu_"));
        assert_eq!(input["city"], "Hangzhou");
        let none = generate(
            &req(json!({"tools": weather_tool(), "tool_choice": {"type": "none"}})),
            0,
        );
        assert_eq!(none.stop_reason, "end_turn");
        assert!(none.blocks.iter().all(|b| matches!(b, Block::Text { .. })));
    }

    #[test]
    fn stop_sequence_is_cut_and_reported() {
        let g = generate(&req(json!({"stop_sequences": ["STOP"]})), 0);
        assert_eq!(g.stop_reason, "stop_sequence");
        assert_eq!(g.stop_sequence.as_deref(), Some("STOP"));
        let Block::Text { text } = &g.blocks[0] else {
            panic!()
        };
        assert!(!text.contains("STOP"));
    }

    #[test]
    fn max_tokens_truncates_text_and_tool_input() {
        let g = generate(&req(json!({"max_tokens": 3})), 0);
        assert_eq!(g.stop_reason, "max_tokens");
        assert!(g.output_tokens <= 3);
        let t = generate(
            &req(json!({"max_tokens": 6, "tools": weather_tool(), "tool_choice": {"type": "any"}})),
            0,
        );
        assert_eq!(t.stop_reason, "max_tokens");
        assert!(t.output_tokens <= 6);
        let Some(Block::ToolUse { json, .. }) = t.blocks.last() else {
            panic!("{t:?}")
        };
        assert!(serde_json::from_str::<Value>(json).is_err());
    }

    #[test]
    fn thinking_is_signed_verifiably() {
        let g = generate(
            &req(
                json!({"max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024}}),
            ),
            3,
        );
        let Block::Thinking {
            thinking,
            signature,
        } = &g.blocks[0]
        else {
            panic!()
        };
        assert_eq!(*signature, sign_thinking(3, thinking));
        assert_ne!(*signature, sign_thinking(3, &format!("{thinking}x")));
    }

    #[test]
    fn schema_values_are_valid() {
        let schema = json!({"type": "object", "$defs": {"c": {"type": "string", "enum": ["a", "b"]}},
            "properties": {
                "n": {"type": "integer", "minimum": 5, "maximum": 7},
                "x": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/c"}, "minItems": 2, "maxItems": 2},
                "nested": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]},
                "maybe": {"type": ["string", "null"], "maxLength": 3}
            },
            "required": ["n", "x", "tags", "nested", "maybe"], "additionalProperties": false});
        for seed in 0..20 {
            let mut s = Rng::new(seed);
            let mut w = Rng::new(seed + 100);
            let v = value_for(&schema, &schema, "output", "", &mut s, &mut w, 0);
            let validator = jsonschema::validator_for(&schema).unwrap();
            assert!(validator.is_valid(&v), "{v}");
        }
    }
}

mod hostile_schema {
    use super::super::*;

    #[test]
    fn recursive_and_huge_schemas_stay_bounded() {
        let schema = json!({"$defs": {"n": {"type": "object", "required": ["a", "b", "c"], "properties": {
            "a": {"$ref": "#/$defs/n"}, "b": {"$ref": "#/$defs/n"}, "c": {"type": "array", "minItems": 1000000, "items": {"$ref": "#/$defs/n"}}}}},
            "$ref": "#/$defs/n"});
        let mut s = Rng::new(1);
        let mut w = Rng::new(2);
        let v = value_for(&schema, &schema, "x", "", &mut s, &mut w, 0);
        assert!(v.to_string().len() < 2_000_000);
        let long = json!({"type": "string", "minLength": 1u64 << 40});
        let v = value_for(&long, &long, "x", "", &mut s, &mut w, 0);
        assert!(v.as_str().unwrap().len() <= 10_000);
    }
}

mod truncated_tool {
    use super::super::*;

    fn body(max_tokens: u64, eager: bool) -> Value {
        json!({"model": "conform-mock", "max_tokens": max_tokens,
            "tool_choice": {"type": "any"},
            "tools": [{"name": "save_note", "eager_input_streaming": eager, "input_schema": {"type": "object",
                "properties": {"city": {"type": "string"}, "note": {"type": "string"}, "n": {"type": "integer"}},
                "required": ["city", "note", "n"]}}],
            "messages": [{"role": "user", "content": "Save a note about Paris."}]})
    }

    #[test]
    fn buffered_tool_input_is_cut_at_a_parameter_boundary() {
        let mut seen_partial = false;
        for max in 4..30 {
            let g = generate(&body(max, false), 0);
            let Some(Block::ToolUse { input, json, .. }) = g.blocks.last() else {
                panic!()
            };
            if g.stop_reason == "max_tokens" {
                let mut expected = input.to_string();
                expected.pop();
                assert_eq!(*json, expected, "max_tokens {max}");
                seen_partial |= !input.as_object().unwrap().is_empty();
                assert!(g.output_tokens <= max);
            }
        }
        assert!(seen_partial, "some cut keeps complete parameters");
        let eager = generate(&body(8, true), 0);
        let Some(Block::ToolUse { json, .. }) = eager.blocks.last() else {
            panic!()
        };
        assert!(json.starts_with('{') && serde_json::from_str::<Value>(json).is_err());
    }
}

mod agent_loops {
    use super::super::*;
    use crate::mock::hash::redacted_is_sealed;

    fn tools() -> Value {
        json!([{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
               {"name": "get_air_quality", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}])
    }

    fn turn(messages: Value) -> Value {
        json!({"model": "conform-mock", "max_tokens": 2048,
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
            "tools": tools(), "messages": messages})
    }

    fn called(g: &Generated) -> Vec<String> {
        g.blocks
            .iter()
            .filter_map(|b| match b {
                Block::ToolUse { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect()
    }

    const TASK: &str = "Find the weather in Hangzhou, then the air quality.";

    #[test]
    fn the_test_string_makes_the_thinking_redacted_and_sealed() {
        let plain = generate(&turn(json!([{"role": "user", "content": TASK}])), 3);
        assert!(matches!(plain.blocks[0], Block::Thinking { .. }));
        let task = format!("ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_46C9A1 {TASK}");
        let g = generate(&turn(json!([{"role": "user", "content": task}])), 3);
        let Block::RedactedThinking { data } = &g.blocks[0] else {
            panic!("{g:?}")
        };
        assert!(redacted_is_sealed(3, data));
        assert!(!redacted_is_sealed(4, data));
        assert_eq!(called(&g), ["get_weather"]);
    }

    #[test]
    fn a_failed_call_is_retried_once_then_the_loop_goes_on() {
        let call = json!({"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}});
        let failed = json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "is_error": true, "content": "timeout"}]});
        let retry = generate(
            &turn(json!([{"role": "user", "content": TASK},
                {"role": "assistant", "content": [call]}, failed])),
            0,
        );
        assert_eq!(called(&retry), ["get_weather"]);
        let again =
            json!({"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {}});
        let failed_again = json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true, "content": "timeout"}]});
        let next = generate(
            &turn(json!([{"role": "user", "content": TASK},
                {"role": "assistant", "content": [call]}, failed,
                {"role": "assistant", "content": [again]}, failed_again])),
            0,
        );
        assert_eq!(called(&next), ["get_air_quality"]);
    }

    #[test]
    fn the_answer_to_a_tool_result_quotes_its_text_document() {
        let call = json!({"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}});
        let result = json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "The code word is PERIWINKLE."}}]}]});
        let mut body = turn(json!([{"role": "user", "content": "Use get_weather."},
            {"role": "assistant", "content": [call]}, result]));
        body["tool_choice"] = json!({"type": "auto"});
        let g = generate(&body, 0);
        let text: String = g
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert!(text.contains("PERIWINKLE"), "{text}");
    }
}
