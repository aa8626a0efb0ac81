"""Round trips every block type of today's API through the official Python SDK.

The cases (tests/sdk/roundtrip_cases.json, shared with roundtrip_ts.mjs) each ask the reference
server for an answer holding one kind of block — thinking, redacted_thinking, server tool calls
and their results, citations of every location type, pause_turn, a refusal with stop_details.
The script checks that the SDK parsed it, then sends the answer back as the assistant turn of
the next request — the SDK's own objects, as an agent loop does — and checks that the next
turn is accepted. Each case runs from `messages.create` and from the accumulated message of
`messages.stream`. A last case sends `tool_result` blocks with `is_error`, image and document
content.

Environment: CONFORM_BASE_URL, CONFORM_API_KEY, optional CONFORM_MODEL (default conform-mock).
Prints a line per round trip and `N round trips passed`; exits 1 on the first failure.
"""

import json
import os
import sys

import anthropic

BASE = os.environ["CONFORM_BASE_URL"]
KEY = os.environ.get("CONFORM_API_KEY", "conform-test-key")
MODEL = os.environ.get("CONFORM_MODEL", "conform-mock")
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "roundtrip_cases.json")) as f:
    SPEC = json.load(f)

client = anthropic.Anthropic(api_key=KEY, base_url=BASE, max_retries=0)


def first_turn(case, stream):
    kwargs = dict(case["request"], model=MODEL, extra_headers=case.get("headers"))
    if stream:
        with client.messages.stream(**kwargs) as s:
            return s.get_final_message()
    return client.messages.create(**kwargs)


def follow_up(case, message):
    """The next turn: the answer passed back as the SDK gave it, then what a loop sends."""
    messages = list(case["request"]["messages"]) + [{"role": "assistant", "content": message.content}]
    if message.stop_reason == "tool_use":
        results = [
            {"type": "tool_result", "tool_use_id": b.id, "content": "Sunny, 24 degrees Celsius."}
            for b in message.content
            if b.type == "tool_use"
        ]
        messages.append({"role": "user", "content": results})
    elif message.stop_reason != "pause_turn":
        messages.append({"role": "user", "content": "Thank you. Say it once more in five words."})
    request = dict(case["request"], messages=messages)
    return client.messages.create(model=MODEL, extra_headers=case.get("headers"), **request)


def check_case(case, stream):
    message = first_turn(case, stream)
    types = {b.type for b in message.content}
    missing = set(case["blocks"]) - types
    assert not missing, f"blocks {sorted(missing)} missing from {sorted(types)}"
    if "stop_reason" in case:
        assert message.stop_reason == case["stop_reason"], message.stop_reason
    if case.get("stop_reason") == "refusal":
        assert getattr(message, "stop_details", None) is not None, "the SDK kept no stop_details"
    if "citations" in case:
        kinds = {
            c.type
            for b in message.content
            if b.type == "text"
            for c in (getattr(b, "citations", None) or [])
        }
        assert case["citations"] in kinds, f"citations of types {sorted(kinds)}"
    nxt = follow_up(case, message)
    assert nxt.type == "message" and nxt.content, nxt
    return message.stop_reason, nxt.stop_reason


def tool_results_with_media():
    """Request-only blocks: tool_result with is_error, image and document content."""
    media = SPEC["tool_result_media"]
    ask = {"role": "user", "content": "What is the weather in Hangzhou?"}
    first = client.messages.create(
        model=MODEL,
        max_tokens=1024,
        tool_choice={"type": "tool", "name": "get_weather"},
        tools=media["tools"],
        messages=[ask],
    )
    call = next(b for b in first.content if b.type == "tool_use")
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": media["png"]}}
    document = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "Hangzhou: sunny, 24 degrees."},
    }
    for extra in [
        {"content": "the weather service timed out", "is_error": True},
        {"content": [image]},
        {"content": [document]},
    ]:
        result = dict({"type": "tool_result", "tool_use_id": call.id}, **extra)
        nxt = client.messages.create(
            model=MODEL,
            max_tokens=1024,
            tools=media["tools"],
            messages=[ask, {"role": "assistant", "content": first.content}, {"role": "user", "content": [result]}],
        )
        assert nxt.type == "message" and nxt.content, nxt


def main():
    n = 0
    for case in SPEC["cases"]:
        for stream in (False, True):
            label = f"{case['name']} ({'stream' if stream else 'create'})"
            try:
                stops = check_case(case, stream)
            except Exception as e:  # noqa: BLE001 - reported with the case's name
                print(f"FAIL {label}: {type(e).__name__}: {e}")
                sys.exit(1)
            print(f"ok   {label}: stop {stops[0]}, next turn accepted ({stops[1]})")
            n += 1
    try:
        tool_results_with_media()
    except Exception as e:  # noqa: BLE001
        print(f"FAIL tool_result with is_error, image and document content: {type(e).__name__}: {e}")
        sys.exit(1)
    print("ok   tool_result with is_error, image and document content accepted")
    n += 1
    print(f"{n} round trips passed (anthropic {anthropic.__version__})")


if __name__ == "__main__":
    main()
