//! Server tools in a final message, judged on every exchange (scenario runs, client cases and
//! the proxy alike): each `server_tool_use` the server ran comes back followed by its result
//! block, and the searches and fetches it ran are counted in `usage.server_tool_use`.
//!
//! A turn reported `end_turn` that ends on a call with no result was paused and told as
//! finished (`stop.pause-turn`: the fix is the stop reason, not a missing result). Left to the
//! scenarios, where the request is known to provoke a pause: a turn reported `end_turn` that
//! ends on a tool's result (a model may end a turn there).

use super::super::refs;
use super::block_type;
use crate::check::Finding;
use crate::check::catalogue::ids;
use serde_json::Value;

/// The server tools `usage.server_tool_use` counts: the call's `name` and its counter.
const COUNTED: [(&str, &str); 2] = [
    ("web_search", "web_search_requests"),
    ("web_fetch", "web_fetch_requests"),
];

/// Check the server-tool blocks of a final message `m` with content `blocks`; `cut` when the
/// answer was cut short (`max_tokens`, …) or paused (`pause_turn`), so a call may lack its
/// result.
pub(super) fn check(m: &Value, blocks: &[Value], cut: bool, out: &mut Vec<Finding>) {
    let result_for = |id: &str| {
        blocks.iter().position(|b| {
            block_type(b).ends_with("_tool_result")
                && b.get("tool_use_id").and_then(Value::as_str) == Some(id)
        })
    };
    for (i, call) in blocks.iter().enumerate() {
        if block_type(call) != "server_tool_use" {
            continue;
        }
        let name = call.get("name").and_then(Value::as_str).unwrap_or("");
        let id = call.get("id").and_then(Value::as_str).unwrap_or("");
        if cut || result_for(id).is_some_and(|r| r > i) {
            continue;
        }
        let last = i + 1 == blocks.len();
        if last && m.get("stop_reason").and_then(Value::as_str) == Some("end_turn") {
            // The turn stopped on a call it never ran: a paused loop told as finished.
            out.push(
                Finding::new(
                    ids::STOP_PAUSE_TURN,
                    "/stop_reason",
                    format!(
                        "the turn ends on a `{}` call the server did not run, with `end_turn`",
                        crate::text::truncate(name, 64)
                    ),
                )
                .expected("pause_turn")
                .actual("end_turn")
                .reference(refs::STOP_REASON),
            );
            continue;
        }
        out.push(
            Finding::new(
                ids::SERVER_TOOLS_RESULT_MISSING,
                format!("/content/{i}"),
                format!(
                    "the server ran `{}` but no result block with `tool_use_id` `{}` follows it",
                    crate::text::truncate(name, 64),
                    crate::text::truncate(id, 64)
                ),
            )
            .expected("a `…_tool_result` block after the call, naming its id")
            .reference(refs::SERVER_TOOLS),
        );
    }
    // A successful run: a result whose content is a list (an error result is an object).
    let ran = |tool: &str| {
        blocks.iter().any(|b| {
            block_type(b) == "server_tool_use"
                && b.get("name").and_then(Value::as_str) == Some(tool)
                && b.get("id")
                    .and_then(Value::as_str)
                    .and_then(result_for)
                    .is_some_and(|r| blocks[r].get("content").is_some_and(Value::is_array))
        })
    };
    // No usage at all is the schema's finding (and a stream's usage may still be on its way).
    if m.get("usage").is_none_or(|u| !u.is_object()) {
        return;
    }
    let usage = m.pointer("/usage/server_tool_use");
    for (tool, counter) in COUNTED {
        let counted = usage
            .and_then(|u| u.get(counter))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if ran(tool) && counted == 0 {
            out.push(
                Finding::new(
                    ids::USAGE_SERVER_TOOL_USE,
                    format!("/usage/server_tool_use/{counter}"),
                    format!("`{tool}` ran and returned results but `usage.server_tool_use.{counter}` does not count it"),
                )
                .expected("at least 1")
                .actual(usage.and_then(|u| u.get(counter)).map_or("absent".to_string(), Value::to_string))
                .reference(refs::SERVER_TOOLS),
            );
        }
    }
}
