//! Unit tests of `secrets`.

use super::*;
use memchr::memmem;

const KEY: &str = "sk-ant/api03+Zx_9~q=w:é";

fn red() -> Redactor {
    Redactor::new(vec![KEY.into()])
}

fn assert_clean(out: &[u8]) {
    let r = red();
    assert!(!r.contains_secret(out), "{}", String::from_utf8_lossy(out));
}

#[test]
fn redacts_values_and_sensitive_headers() {
    let r = Redactor::new(vec!["sk-abc-123".into(), "x".into()]);
    assert_eq!(r.redact("key=sk-abc-123;"), "key=[REDACTED];");
    assert_eq!(r.redact("x marks"), "x marks", "short secrets are ignored");
    let h = r.redact_headers(&[
        ("Authorization".into(), "Bearer whatever".into()),
        ("x-goog-api-key".into(), "v".into()),
        ("x-note".into(), "has sk-abc-123 inside".into()),
        ("content-type".into(), "application/json".into()),
    ]);
    assert_eq!(h[0].1, REDACTED);
    assert_eq!(h[1].1, REDACTED);
    assert_eq!(h[2].1, "has [REDACTED] inside");
    assert_eq!(h[3].1, "application/json");
}

#[test]
fn every_encoded_form_is_redacted() {
    let r = red();
    let raw = KEY.as_bytes();
    let mut forms = vec![raw.to_vec()];
    for e in [&STANDARD, &URL_SAFE, &STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        forms.push(e.encode(raw).into_bytes());
    }
    forms.push(percent_encode(raw, b"0123456789ABCDEF"));
    forms.push(percent_encode(raw, b"0123456789abcdef"));
    forms.push(serde_json::to_string(KEY).unwrap().into_bytes());
    for f in forms {
        let mut text = b"before ".to_vec();
        text.extend_from_slice(&f);
        text.extend_from_slice(b" after");
        let out = r.redact_bytes(&text);
        assert!(out.starts_with(b"before "), "{out:?}");
        assert!(out.ends_with(b" after"), "{out:?}");
        assert!(
            memmem::find(&out, REDACTED.as_bytes()).is_some(),
            "{} not redacted",
            String::from_utf8_lossy(&f)
        );
        assert!(memmem::find(&out, &f).is_none());
    }
    // The percent-encoded form really is distinct from the raw key here.
    assert!(
        percent_encode(raw, b"0123456789ABCDEF")
            .windows(3)
            .any(|w| w == b"%2F")
    );
}

#[test]
fn a_secret_inside_a_longer_base64_text_is_redacted_at_every_alignment() {
    let r = red();
    for prefix in ["", "a", "al", "alice:", "alice:x", "alice:xy"] {
        for e in [&STANDARD, &URL_SAFE] {
            let plain = format!("{prefix}{KEY} and more");
            let basic = format!("Basic {}", e.encode(plain.as_bytes()));
            let out = r.redact(&basic);
            assert!(out.contains(REDACTED), "{prefix:?}: {out}");
            // What is left decodes to no part of the key long enough to matter.
            assert!(!out.contains(&e.encode(KEY)[..8]), "{prefix:?}: {out}");
        }
    }
}

#[test]
fn bytes_that_are_not_utf8_are_redacted() {
    let r = red();
    let mut input = vec![0xff, 0xfe, b'x'];
    input.extend_from_slice(KEY.as_bytes());
    input.extend_from_slice(&[0xc3, 0x28, 0x80]);
    let out = r.redact_bytes(&input);
    let mut want = vec![0xff, 0xfe, b'x'];
    want.extend_from_slice(REDACTED.as_bytes());
    want.extend_from_slice(&[0xc3, 0x28, 0x80]);
    assert_eq!(out, want);
    assert_clean(&out);
}

#[test]
fn overlapping_and_adjacent_matches_leave_no_fragment() {
    let r = Redactor::new(vec!["abcdabcd".into(), "cdabcdXY".into()]);
    assert_eq!(r.redact("__abcdabcdXY__"), "__[REDACTED]__");
    assert_eq!(r.redact("abcdabcdabcdabcd"), "[REDACTED][REDACTED]");
    assert_eq!(r.redact("no secret"), "no secret");
}

#[test]
fn max_pattern_len_covers_every_form() {
    assert_eq!(Redactor::default().max_pattern_len(), 0);
    assert_eq!(Redactor::new(vec!["ab".into()]).max_pattern_len(), 0);
    let r = red();
    let longest = encoded_forms(KEY).iter().map(Vec::len).max().unwrap();
    assert_eq!(r.max_pattern_len(), longest);
    assert_eq!(r.needles()[0].len(), longest);
    assert!(r.needles().contains(&KEY.as_bytes().to_vec()));
    assert!(r.max_pattern_len() > KEY.len());
}

#[test]
fn a_stream_split_anywhere_is_redacted_like_the_whole() {
    let r = red();
    let text = format!(
        "data: {KEY} / {} / {}\n",
        STANDARD.encode(KEY),
        String::from_utf8(percent_encode(KEY.as_bytes(), b"0123456789ABCDEF")).unwrap()
    );
    let bytes = text.as_bytes();
    let whole = r.redact_bytes(bytes);
    assert_clean(&whole);
    for a in 0..=bytes.len() {
        for b in [a, (a + 7).min(bytes.len()), (a + 31).min(bytes.len())] {
            let mut s = r.stream();
            let mut out = s.push(&bytes[..a]);
            out.extend(s.push(&bytes[a..b]));
            out.extend(s.push(&bytes[b..]));
            out.extend(s.finish());
            assert_eq!(out, whole, "split at {a} and {b}");
        }
    }
    // One byte at a time.
    let mut s = r.stream();
    let mut out = Vec::new();
    for byte in bytes {
        out.extend(s.push(std::slice::from_ref(byte)));
    }
    out.extend(s.finish());
    assert_eq!(out, whole);
}

#[test]
fn rate_limit_token_counters_are_not_secret() {
    for n in [
        "anthropic-ratelimit-tokens-limit",
        "anthropic-ratelimit-tokens-remaining",
        "Anthropic-RateLimit-Input-Tokens-Reset",
        "anthropic-ratelimit-output-tokens-remaining",
        "anthropic-ratelimit-requests-limit",
    ] {
        assert!(!is_sensitive_header(n), "{n}");
    }
    for n in [
        "x-api-key",
        "authorization",
        "x-auth-token",
        "anthropic-ratelimit-tokens-secret",
        "anthropic-ratelimit-token",
        "x-session-secret",
    ] {
        assert!(is_sensitive_header(n), "{n}");
    }
    let r = Redactor::new(vec![]);
    let h = r.redact_headers(&[("anthropic-ratelimit-tokens-remaining".into(), "42".into())]);
    assert_eq!(h[0].1, "42");
}

#[test]
fn extra_secret_headers_and_secrets_in_header_names() {
    let r = red().with_secret_headers(["X-Auth"]);
    let h = r.redact_headers(&[
        ("x-auth".into(), "opaque-credential".into()),
        (format!("x-echo-{KEY}"), "v".into()),
        ("x-other".into(), "plain".into()),
    ]);
    assert_eq!(h[0].1, REDACTED);
    assert_eq!(h[1].0, "x-echo-[REDACTED]");
    assert_eq!(h[2], ("x-other".into(), "plain".into()));
    // add() keeps the extra header names.
    let mut r = r;
    r.add("another-secret");
    assert!(r.is_secret_header("X-AUTH"));
    assert_eq!(r.redact("another-secret"), REDACTED);
}

#[test]
fn partially_and_mixed_case_percent_encoded_and_escaped_keys_are_redacted() {
    let key = "sk-ant-api03-Zx9q";
    let r = Redactor::new(vec![key.into()]);
    let pct_lower: String = key.bytes().map(|b| format!("%{b:02x}")).collect();
    let pct_mixed: String = key
        .bytes()
        .enumerate()
        .map(|(i, b)| match i % 3 {
            0 => format!("%{b:02X}"),
            1 => format!("%{b:02x}"),
            _ => (b as char).to_string(),
        })
        .collect();
    let pct_twice: String = key.bytes().map(|b| format!("%25{b:02X}")).collect();
    let u_escaped: String = key.bytes().map(|b| format!("\\u{b:04x}")).collect();
    let u_in_json_in_json: String = key.bytes().map(|b| format!("\\\\u{b:04X}")).collect();
    let html: String = key.bytes().map(|b| format!("&#{b};")).collect();
    for form in [
        pct_lower,
        pct_mixed,
        pct_twice,
        u_escaped,
        u_in_json_in_json,
        html,
        key.to_ascii_lowercase(),
        key.to_ascii_uppercase(),
    ] {
        let text = format!("before {form} after");
        let out = r.redact(&text);
        assert_eq!(out, "before [REDACTED] after", "{form}");
        assert!(r.contains_secret(text.as_bytes()), "{form}");
        // Chunked anywhere, the stream gives the same.
        let bytes = text.as_bytes();
        for a in 0..=bytes.len() {
            let mut s = r.stream();
            let mut got = s.push(&bytes[..a]);
            got.extend(s.push(&bytes[a..]));
            got.extend(s.finish());
            assert_eq!(got, out.as_bytes(), "{form} split at {a}");
        }
    }
    // Escapes that hide no secret are left alone.
    assert_eq!(r.redact("100%25 \\u0041 &#65;"), "100%25 \\u0041 &#65;");
}

#[test]
fn a_key_lower_cased_in_a_header_name_is_redacted() {
    let r = Redactor::new(vec!["sk-ANT-Key-0123456789".into()]);
    let h = r.redact_headers(&[("x-sk-ant-key-0123456789".into(), "1".into())]);
    assert_eq!(h[0].0, "x-[REDACTED]");
}

#[test]
fn hold_back_covers_a_key_cut_inside_an_escape() {
    let r = Redactor::new(vec!["sk-ant-0123456789".into()]);
    assert_eq!(r.hold_back(b"text %73%6"), 5);
    assert_eq!(r.hold_back(b"text \\u0073k"), 7);
    assert_eq!(r.hold_back(b"text SK-A"), 4);
    assert_eq!(r.hold_back(b"text done\n\n"), 0);
}

#[test]
fn a_learning_redactor_learns_client_credentials_from_request_headers() {
    let shared = SharedRedactor::new(Redactor::default().with_secret_headers(["x-goog-api-key"]));
    shared.learn_from_headers([
        ("X-Api-Key", "sk-client-key-0001"),
        ("authorization", "Bearer tok-bearer-0002"),
        (
            "proxy-authorization",
            &format!("Basic {}", STANDARD.encode("alice:pass-word-0003")),
        ),
        ("x-goog-api-key", "goog-key-0004"),
        ("content-type", "application/json-long"),
        ("x-api-key", "short"),
    ]);
    let r = shared.get();
    for s in [
        "sk-client-key-0001",
        "tok-bearer-0002",
        "pass-word-0003",
        "goog-key-0004",
    ] {
        assert_eq!(r.redact(&format!("<{s}>")), "<[REDACTED]>", "{s}");
    }
    assert_eq!(
        r.redact("application/json-long short"),
        "application/json-long short"
    );
    // Every clone sees what was learned.
    let before = shared.clone();
    shared.learn_from_headers([("x-api-key", "sk-later-key-0005")]);
    assert_eq!(before.get().redact("sk-later-key-0005"), REDACTED);
}
