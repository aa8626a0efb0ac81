//! Citations of the sources a request enables them on, as Anthropic answers them: each
//! `document` with `citations.enabled` in the last user turn is cited once — a plain-text
//! document on its first sentence (`char_location`), a custom-content document on its first
//! block (`content_block_location`) — and each `search_result` with `citations.enabled` (in the
//! user turn or inside its `tool_result`s) on its first text block (`search_result_location`,
//! numbered over the request's search results; documents are numbered over the request's
//! documents). PDFs are not cited: their page text is not extracted here.

use serde_json::{Value, json};

use super::Block;

/// The first sentence of `s` (through its first ". "), or all of it.
pub(super) fn first_sentence(s: &str) -> &str {
    match s.find(". ") {
        Some(at) => &s[..=at],
        None => s,
    }
}

/// The cited blocks answering the citable sources of the last user turn (see the module doc).
pub(super) fn cited_sources(body: &Value) -> Vec<Block> {
    let Some(msgs) = body.get("messages").and_then(Value::as_array) else {
        return Vec::new();
    };
    let Some(last_user) = msgs
        .iter()
        .rposition(|m| m.get("role").and_then(Value::as_str) == Some("user"))
    else {
        return Vec::new();
    };
    let mut doc_index = 0usize;
    let mut result_index = 0usize;
    let mut out = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let blocks = m
            .get("content")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        // A tool_result's search results are numbered where they stand.
        let mut flat: Vec<&Value> = Vec::new();
        for b in blocks {
            flat.push(b);
            if b.get("type").and_then(Value::as_str) == Some("tool_result")
                && let Some(inner) = b.get("content").and_then(Value::as_array)
            {
                flat.extend(inner.iter());
            }
        }
        for b in flat {
            let on = b.pointer("/citations/enabled").and_then(Value::as_bool) == Some(true);
            match b.get("type").and_then(Value::as_str) {
                Some("document") => {
                    if on && i == last_user {
                        out.extend(cite_document(b, doc_index));
                    }
                    doc_index += 1;
                }
                Some("search_result") => {
                    if on && i == last_user {
                        out.extend(cite_search_result(b, result_index));
                    }
                    result_index += 1;
                }
                _ => {}
            }
        }
    }
    out
}

fn cite_document(b: &Value, index: usize) -> Option<Block> {
    let title = b.get("title").cloned().unwrap_or(Value::Null);
    let source = b.get("source")?;
    let citation = match source.get("type").and_then(Value::as_str)? {
        "text" => {
            let data = source.get("data").and_then(Value::as_str)?;
            let cited = first_sentence(data);
            if cited.is_empty() {
                return None;
            }
            json!({"type": "char_location", "cited_text": cited, "document_index": index,
                "document_title": title, "start_char_index": 0,
                "end_char_index": cited.chars().count()})
        }
        "content" => {
            let first = match source.get("content")? {
                Value::String(s) => s.clone(),
                Value::Array(a) => a.first()?.get("text").and_then(Value::as_str)?.to_string(),
                _ => return None,
            };
            json!({"type": "content_block_location", "cited_text": first, "document_index": index,
                "document_title": title, "start_block_index": 0, "end_block_index": 1})
        }
        _ => return None,
    };
    let text = citation["cited_text"].as_str()?.to_string();
    Some(Block::Cited {
        text,
        citations: vec![citation],
    })
}

fn cite_search_result(b: &Value, index: usize) -> Option<Block> {
    let first = b
        .get("content")?
        .as_array()?
        .first()?
        .get("text")?
        .as_str()?
        .to_string();
    Some(Block::Cited {
        text: first.clone(),
        citations: vec![
            json!({"type": "search_result_location", "cited_text": first,
            "search_result_index": index, "source": b.get("source").cloned().unwrap_or(Value::Null),
            "title": b.get("title").cloned().unwrap_or(Value::Null),
            "start_block_index": 0, "end_block_index": 1}),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_and_search_results_are_cited_by_kind() {
        let body = json!({"messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "A is b. C is d."}, "citations": {"enabled": true}},
            {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "First."}]}, "citations": {"enabled": true}},
            {"type": "search_result", "source": "https://x.example", "title": "X", "content": [{"type": "text", "text": "X is y."}], "citations": {"enabled": true}},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Uncited."}},
            {"type": "text", "text": "Q?"}]}]});
        let kinds: Vec<String> = cited_sources(&body)
            .iter()
            .filter_map(|b| match b {
                Block::Cited { citations, .. } => citations[0]["type"].as_str().map(String::from),
                _ => None,
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "char_location",
                "content_block_location",
                "search_result_location"
            ]
        );
    }
}
