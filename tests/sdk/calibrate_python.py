"""Client-impact calibration with the official Python SDK (tests/integration/calibration).

Reads the plan (a JSON file named by CONFORM_CALIBRATION_PLAN): a list of cases, each with the
server to ask (`base_url`, `api_key`), the endpoint, the request body and the modes to run.
Runs every case in this one process and prints one JSON line per case and mode:

    {"case", "mode", "outcome": "returned" | "raised" | "timeout", "error", "status", "result"}

`result` is what the application sees, normalised the same way the test normalises conform's
own accumulation: text, tool inputs, thinking, stop_reason and usage counts.

Modes: `stream_final` (messages.stream + get_final_message), `stream_raw` (stream=True, the
raw events accumulated the way an application does), `create` (non-streaming parse),
`passback` (the streamed message's content, else the created one's, sent back as the
assistant turn of a next non-streaming request), `call` (count_tokens or models.list).
"""

import json
import os
import sys
import traceback

import anthropic

PLAN = json.load(open(os.environ["CONFORM_CALIBRATION_PLAN"]))
TIMEOUT = float(os.environ.get("CONFORM_CALIBRATION_TIMEOUT", "15"))
# Parameters `messages.create` takes by name; anything else goes through extra_body.
NAMED = {
    "model", "max_tokens", "messages", "system", "tools", "tool_choice", "thinking",
    "stop_sequences", "metadata", "temperature", "top_k", "top_p",
}


def split(body):
    named = {k: v for k, v in body.items() if k in NAMED}
    extra = {k: v for k, v in body.items() if k not in NAMED and k != "stream"}
    if extra:
        named["extra_body"] = extra
    return named


def count(v):
    return v if isinstance(v, int) else None


def summary(message):
    """The application-visible result of a message given as a dict."""
    text, thinking, tools = "", "", []
    for b in message.get("content") or []:
        if not isinstance(b, dict):
            continue
        t = b.get("type")
        if t == "text":
            text += b.get("text") or ""
        elif t == "thinking":
            thinking += b.get("thinking") or ""
        elif t == "tool_use":
            tools.append(b.get("input"))
    u = message.get("usage") or {}
    if not isinstance(u, dict):
        u = {}
    return {
        "text": text,
        "thinking": thinking,
        "tools": tools,
        "stop_reason": message.get("stop_reason"),
        "usage": {
            "input_tokens": count(u.get("input_tokens")),
            "output_tokens": count(u.get("output_tokens")),
            "cache_creation_input_tokens": count(u.get("cache_creation_input_tokens")) or 0,
            "cache_read_input_tokens": count(u.get("cache_read_input_tokens")) or 0,
        },
    }


def dump(model):
    return model.model_dump(mode="json") if hasattr(model, "model_dump") else model


def raw_stream(client, args):
    """Accumulate raw events as an application iterating `stream=True` does."""
    message, blocks, partial = {}, {}, {}
    for ev in client.messages.create(stream=True, **args):
        e = dump(ev)
        t = e.get("type")
        if t == "message_start":
            message = dict(e.get("message") or {})
            message["usage"] = dict(message.get("usage") or {})
        elif t == "content_block_start":
            blocks[e["index"]] = dict(e.get("content_block") or {})
        elif t == "content_block_delta":
            b = blocks.setdefault(e["index"], {})
            d = e.get("delta") or {}
            dt = d.get("type")
            if dt == "text_delta":
                b["text"] = (b.get("text") or "") + (d.get("text") or "")
            elif dt == "thinking_delta":
                b["thinking"] = (b.get("thinking") or "") + (d.get("thinking") or "")
            elif dt == "input_json_delta":
                partial[e["index"]] = partial.get(e["index"], "") + (d.get("partial_json") or "")
            elif dt == "signature_delta":
                b["signature"] = d.get("signature")
        elif t == "content_block_stop":
            if e["index"] in partial:
                blocks[e["index"]]["input"] = json.loads(partial.pop(e["index"]) or "{}")
        elif t == "message_delta":
            message.update({k: v for k, v in (e.get("delta") or {}).items()})
            for k, v in (e.get("usage") or {}).items():
                if v is not None:
                    message.setdefault("usage", {})[k] = v
    message["content"] = [blocks[i] for i in sorted(blocks)]
    return message


def next_turn(body, content):
    """The request that passes `content` back as the assistant turn."""
    results = [
        {"type": "tool_result", "tool_use_id": b.get("id"), "content": "18 degrees, sunny"}
        for b in (dump(c) for c in content)
        if isinstance(b, dict) and b.get("type") == "tool_use"
    ]
    follow = results or "Thanks. Say it again, shorter."
    return dict(body, messages=list(body["messages"]) + [
        {"role": "assistant", "content": content},
        {"role": "user", "content": follow},
    ])


def run_mode(case, mode, kept):
    client = anthropic.Anthropic(
        api_key=case["api_key"], base_url=case["base_url"], max_retries=case.get("retries", 0),
        timeout=TIMEOUT,
    )
    body = case.get("body") or {}
    if mode == "call":
        if case["endpoint"] == "count_tokens":
            r = client.messages.count_tokens(**split(body))
            return {"input_tokens": r.input_tokens}
        return {"models": [m.id for m in client.models.list().data]}
    args = split(body)
    if mode == "stream_final":
        with client.messages.stream(**args) as s:
            m = s.get_final_message()
        kept["content"] = m.content
        return summary(dump(m))
    if mode == "stream_raw":
        return summary(raw_stream(client, args))
    if mode == "create":
        m = client.messages.create(**args)
        kept.setdefault("content", m.content)
        return summary(dump(m))
    if mode == "passback":
        if "content" not in kept:
            return None
        back = anthropic.Anthropic(
            api_key=case["api_key"], base_url=case["passback_url"], max_retries=0, timeout=TIMEOUT
        )
        m = back.messages.create(**split(next_turn(body, kept["content"])))
        return {"passed_back": True, "stop_reason": m.stop_reason}
    raise ValueError(f"unknown mode {mode}")


def main():
    for case in PLAN["cases"]:
        kept = {}
        for mode in case["modes"]:
            line = {"case": case["name"], "mode": mode}
            try:
                result = run_mode(case, mode, kept)
                if result is None:
                    continue
                line.update(outcome="returned", result=result)
            except anthropic.APITimeoutError as e:
                line.update(outcome="timeout", error=str(e))
            except anthropic.APIStatusError as e:
                line.update(outcome="raised", status=e.status_code, error=f"{type(e).__name__}: {e}")
            except Exception as e:  # the client failing any other way is what we measure
                last = traceback.extract_tb(e.__traceback__)[-1]
                line.update(
                    outcome="raised",
                    error=f"{type(e).__name__}: {e}"[:300] + f" (at {os.path.basename(last.filename)})",
                )
            print(json.dumps(line), flush=True)
    print(json.dumps({"sdk": "python", "version": anthropic.__version__}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
