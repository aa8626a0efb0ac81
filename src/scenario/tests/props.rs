//! Properties: nothing a file or an endpoint can send makes the scenario code panic, and text
//! without templates passes through unchanged.

use crate::check::assert::{self, Env};
use crate::scenario::template::Context;
use crate::scenario::{self, template};
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        "[a-z_ ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const ASSERTS: &str = r#"id: p
feature: basic
title: t
reference: r
steps:
  - id: s
    expect:
      assert:
        - {path: "$..text", all: true, matches: "^[a-z]"}
        - {path: "$.*", any: true, gt: 3}
        - {path: "$..*", count: {gte: 2}}
        - {path: "$.a", length: {not: {lt: 2}}}
        - {path: "$[0]", contains: x}
        - {path: "$", type: object}
        - {path: "$.a.b", one_of: [1, "x", null]}
        - {path: "$", schema: {type: object, required: [a]}}
        - {path: "$.a", not: {equals: {b: 1}}}
"#;

proptest! {
    #[test]
    fn text_without_templates_is_unchanged(s in "[^{]*") {
        prop_assert_eq!(Context::default().render_str(&s).unwrap(), Value::String(s));
    }

    #[test]
    fn template_parsing_never_panics(s in ".{0,64}") {
        let _ = template::parse(&s);
        let _ = Context::default().render_str(&s);
    }

    #[test]
    fn loading_never_panics(s in "[a-z:{}\\[\\]\\- \n\"'#&*!|>0-9.]{0,200}") {
        let _ = scenario::load::load_text(Path::new("p.yaml"), &s);
    }

    #[test]
    fn assertions_never_panic_on_any_body(body in json_value()) {
        let (s, d) = scenario::load::load_text(Path::new("p.yaml"), ASSERTS);
        prop_assert!(d.is_empty(), "{:?}", d);
        let s = s.unwrap();
        let env = Env { ctx: &Context::default(), schemas: &assert::no_schemas, file: &s.file };
        let subject = assert::Subject { status: 200, headers: &[], body: &body };
        let out = assert::check_expect(&s.doc.steps[0].value.expect, &subject, &env);
        prop_assert_eq!(out.len(), 10);
    }
}
