use super::read::{parse_ndjson, read_ndjson};
use super::write::write_ndjson;
use super::*;
use crate::secrets::Redactor;

fn sample() -> Exchange {
    Exchange {
        label: "basic/hello@sync".into(),
        request: RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/v1/messages".into(),
            headers: vec![
                ("x-api-key".into(), "sk-canary-123".into()),
                ("anthropic-version".into(), "2023-06-01".into()),
            ],
            body: Some(r#"{"model":"m","note":"sk-canary-123"}"#.into()),
        },
        retries: vec![Retry {
            attempt: 1,
            t_ms: 3.0,
            status: Some(529),
            cause: "HTTP 529".into(),
            wait_ms: 10.0,
        }],
        response: Some(RecordedResponse {
            status: 200,
            headers: vec![(
                "content-type".into(),
                "text/event-stream; charset=utf-8".into(),
            )],
            head_ms: 1.0,
            chunks: vec![
                Chunk::new(1.5, b"event: ping\n"),
                Chunk::new(2.0, &[0xff, 0x0a]),
            ],
            total_ms: 2.0,
        }),
        transport: None,
    }
}

#[test]
fn roundtrip_through_records_redacts_and_keeps_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.ndjson");
    let redactor = Redactor::new(vec!["sk-canary-123".to_string()]);
    write_ndjson(&path, &[sample(), sample()], &redactor).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("sk-canary-123"));
    assert!(text.lines().all(|l| l.starts_with(r#"{"rec":""#)), "{text}");
    let back = read_ndjson(&path).unwrap();
    assert_eq!(back.len(), 2);
    let r = back[0].response.as_ref().unwrap();
    assert_eq!(r.body_bytes(), b"event: ping\n\xff\n".to_vec());
    assert!(r.is_event_stream());
    assert_eq!(back[0].request.headers[0].1, "[REDACTED]");
    assert_eq!(back[0].retries, sample().retries);
    assert_eq!(back[0].attempts(), 2);
}

#[test]
fn a_secret_split_across_chunks_is_redacted_and_timing_kept() {
    let redactor = Redactor::new(vec!["sk-canary-123".to_string()]);
    let mut x = sample();
    let r = x.response.as_mut().unwrap();
    // The key split over three chunks, then a CJK character split in the middle.
    let cjk = "界".as_bytes();
    r.chunks = vec![
        Chunk::new(1.0, b"data: {\"k\":\"sk-can"),
        Chunk::new(2.0, b"ary"),
        Chunk::new(3.0, b"-123\"}\n\ndata: "),
        Chunk::new(4.0, &cjk[..1]),
        Chunk::new(5.0, &[&cjk[1..], b"\n\n"].concat()),
    ];
    let red = x.redacted(&redactor);
    let chunks = &red.response.as_ref().unwrap().chunks;
    let joined = String::from_utf8(red.response.as_ref().unwrap().body_bytes()).unwrap();
    assert_eq!(joined, "data: {\"k\":\"[REDACTED]\"}\n\ndata: 界\n\n");
    assert!(chunks.iter().all(|c| c.text.is_some()), "{chunks:?}");
    // Every frame ends in a chunk with the time of the chunk that ended it live.
    let t_of = |needle: &str| {
        chunks
            .iter()
            .find(|c| c.text.as_deref().unwrap().contains(needle))
            .unwrap()
            .t_ms
    };
    assert_eq!(t_of("}\n\n"), 3.0);
    assert_eq!(t_of("界\n\n"), 5.0);
}

#[test]
fn non_utf8_bytes_are_redacted_before_encoding() {
    let redactor = Redactor::new(vec!["sk-canary-123".to_string()]);
    let mut x = sample();
    x.response.as_mut().unwrap().chunks = vec![Chunk::new(1.0, b"\xff sk-canary-123 \xfe")];
    let red = x.redacted(&redactor);
    let bytes = red.response.as_ref().unwrap().body_bytes();
    assert_eq!(bytes, b"\xff [REDACTED] \xfe".to_vec());
}

#[test]
fn wave_one_lines_are_read() {
    let line = r#"{"label":"a","request":{"method":"GET","url":"http://h/v1/models"},"response":{"status":200,"headers":[],"chunks":[{"t_ms":1.0,"text":"{}"}],"total_ms":1.0},"transport_error":"reset","attempts":3}"#;
    let xs = parse_ndjson(line.as_bytes()).unwrap();
    assert_eq!(xs.len(), 1);
    assert_eq!(xs[0].attempts(), 3);
    assert_eq!(
        xs[0].transport.as_ref().unwrap().kind,
        FailureKind::Interrupted
    );
    assert_eq!(xs[0].response.as_ref().unwrap().body_bytes(), b"{}");
}

#[test]
fn bad_lines_are_named() {
    let err = parse_ndjson(b"{}\n").unwrap_err();
    assert!(err.to_string().starts_with("line 1:"), "{err}");
    let err = parse_ndjson(b"{\"rec\":\"chunk\",\"t_ms\":1,\"text\":\"x\"}\n").unwrap_err();
    assert!(err.to_string().contains("no `begin`"), "{err}");
}

#[test]
fn an_index_replays_one_exchange_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.ndjson");
    let mut a = sample();
    a.label = "first".into();
    let mut b = sample();
    b.label = "second".into();
    write_ndjson(&path, &[a, b.clone()], &Redactor::default()).unwrap();
    let index = read::Index::build(&path).unwrap();
    let labels: Vec<_> = index.entries.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(labels, ["first", "second"]);
    let mut c = Collector::default();
    index
        .replay(&index.entries[1], &mut c, super::read::MAX_LINE)
        .unwrap();
    assert_eq!(c.into_exchanges(), vec![b.redacted(&Redactor::default())]);
}
