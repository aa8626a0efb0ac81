"""Runs the seed provider's examples with the official Python SDK against `conform mock`.

Environment: CONFORM_BASE_URL (e.g. http://127.0.0.1:8787), CONFORM_API_KEY, optional
CONFORM_MODEL (default conform-mock). Exits non-zero with a message on the first failure.
Works with the 0.x SDKs (x-api-key, anthropic-version 2023-06-01) and 2.x (Bearer, 2026-10-21).
"""

import json
import os
import sys

import anthropic

BASE = os.environ["CONFORM_BASE_URL"]
KEY = os.environ.get("CONFORM_API_KEY", "conform-test-key")
MODEL = os.environ.get("CONFORM_MODEL", "conform-mock")

client = anthropic.Anthropic(api_key=KEY, base_url=BASE, max_retries=0)
checks = []


def check(fn):
    checks.append(fn)
    return fn


@check
def basic():
    message = client.messages.create(
        model=MODEL,
        max_tokens=1024,
        system="You are a helpful assistant",
        messages=[{"role": "user", "content": "Who are you?"}],
        thinking={"type": "disabled"},
    )
    assert message.content[0].type == "text" and message.content[0].text, message
    assert message.id.startswith("msg_"), message.id
    assert message.stop_reason == "end_turn", message.stop_reason
    assert message._request_id and message._request_id.startswith("req_"), message._request_id


@check
def streaming_raw():
    stream = client.messages.create(
        model=MODEL,
        max_tokens=1024,
        stream=True,
        messages=[{"role": "user", "content": "Give a brief introduction to artificial intelligence."}],
        thinking={"type": "disabled"},
    )
    text = ""
    kinds = []
    for chunk in stream:
        kinds.append(chunk.type)
        if chunk.type == "content_block_delta" and hasattr(chunk.delta, "text"):
            text += chunk.delta.text
    assert text, "no text streamed"
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop", kinds


@check
def streaming_helper_final_message():
    request = dict(
        model=MODEL,
        max_tokens=1024,
        messages=[{"role": "user", "content": "Give a brief introduction to artificial intelligence."}],
        thinking={"type": "disabled"},
    )
    with client.messages.stream(**request) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert final.content[0].text == streamed, (final, streamed)
    plain = client.messages.create(**request)
    assert plain.content[0].text == final.content[0].text, "stream and non-stream answers differ"
    assert plain.usage.output_tokens == final.usage.output_tokens
    assert plain.usage.input_tokens == final.usage.input_tokens


@check
def thinking_stream():
    stream = client.messages.create(
        model=MODEL,
        max_tokens=2048,
        stream=True,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Analyze the future prospects of quantum computing."}],
    )
    thinking, text = "", ""
    for chunk in stream:
        if chunk.type == "content_block_delta":
            if hasattr(chunk.delta, "thinking"):
                thinking += chunk.delta.thinking
            elif hasattr(chunk.delta, "text"):
                text += chunk.delta.text
    assert thinking and text, (thinking, text)
    with client.messages.stream(
        model=MODEL,
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Analyze the future prospects of quantum computing."}],
    ) as s:
        final = s.get_final_message()
    assert final.content[0].type == "thinking" and final.content[0].signature, final.content[0]


@check
def image_url():
    stream = client.messages.create(
        model=MODEL,
        max_tokens=1024,
        stream=True,
        messages=[{
            "role": "user",
            "content": [
                {"type": "image", "source": {"type": "url", "url": "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20250414/mqqmiy/animal_01.jpg"}},
                {"type": "text", "text": "Describe the content of this image."},
            ],
        }],
        thinking={"type": "disabled"},
    )
    text = "".join(c.delta.text for c in stream if c.type == "content_block_delta" and hasattr(c.delta, "text"))
    assert text


@check
def video_url():
    stream = client.messages.create(
        model=MODEL,
        max_tokens=1024,
        stream=True,
        messages=[{
            "role": "user",
            "content": [
                {"type": "video", "source": {"type": "url", "url": "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20251208/zpupby/3e81ef38-98f0-4d55-bbb6-259334ca18d0.mp4"}},
                {"type": "text", "text": "Describe the content of this video."},
            ],
        }],
        thinking={"type": "disabled"},
    )
    text = "".join(c.delta.text for c in stream if c.type == "content_block_delta" and hasattr(c.delta, "text"))
    assert text


TOOLS = [{
    "name": "get_weather",
    "description": "Get weather information for a specified city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "City name"}},
        "required": ["city"],
    },
}]


@check
def tools_round_trip():
    question = {"role": "user", "content": "What's the weather like in Hangzhou today?"}
    message = client.messages.create(model=MODEL, max_tokens=1024, tools=TOOLS, messages=[question])
    assert message.stop_reason == "tool_use", message
    call = [b for b in message.content if b.type == "tool_use"][0]
    assert call.name == "get_weather" and isinstance(call.input.get("city"), str), call
    assert call.id.startswith("toolu_")
    answer = client.messages.create(
        model=MODEL,
        max_tokens=1024,
        tools=TOOLS,
        messages=[
            question,
            {"role": "assistant", "content": message.content},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "Sunny, 25°C"}]},
        ],
    )
    assert answer.stop_reason == "end_turn" and answer.content[0].type == "text", answer
    # Streamed tool call through the helper: the accumulated input is the parsed object.
    with client.messages.stream(model=MODEL, max_tokens=1024, tools=TOOLS, messages=[question]) as s:
        final = s.get_final_message()
    streamed_call = [b for b in final.content if b.type == "tool_use"][0]
    assert streamed_call.input == call.input, (streamed_call.input, call.input)


@check
def thinking_tools_round_trip():
    question = {"role": "user", "content": "What's the weather like in Hangzhou today?"}
    thinking = {"type": "enabled", "budget_tokens": 1024}
    message = client.messages.create(model=MODEL, max_tokens=2048, tools=TOOLS, thinking=thinking, messages=[question])
    assert message.content[0].type == "thinking"
    call = [b for b in message.content if b.type == "tool_use"][0]
    follow_up = [
        question,
        {"role": "assistant", "content": message.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "Sunny"}]},
    ]
    answer = client.messages.create(model=MODEL, max_tokens=2048, tools=TOOLS, thinking=thinking, messages=follow_up)
    assert answer.stop_reason == "end_turn"
    tampered = [dict(b) if isinstance(b, dict) else b.model_dump() for b in message.content]
    tampered[0]["thinking"] += " (edited)"
    follow_up[1] = {"role": "assistant", "content": tampered}
    try:
        client.messages.create(model=MODEL, max_tokens=2048, tools=TOOLS, thinking=thinking, messages=follow_up)
    except anthropic.BadRequestError as e:
        assert "signature" in str(e), e
    else:
        raise AssertionError("a tampered thinking block was accepted")


@check
def pass_back_round_trip():
    """Every content-block type the mock produces (thinking, text, tool_use; streamed and not;
    thinking shown and omitted), passed back with the common idiom
    `[b.model_dump() for b in m.content]` (which sends the SDK's null fields, e.g. citations,
    caller), is accepted."""
    question = {"role": "user", "content": "What's the weather like in Hangzhou today?"}
    seen = set()

    def dump(block):
        # The 0.x SDKs' stream helper returns ParsedTextBlock, whose `parsed_output` is a
        # response-only field: the real API rejects it passed back ("...text.parsed: Extra
        # inputs are not permitted", anthropic-sdk-typescript#857), and so does the mock.
        d = block.model_dump()
        d.pop("parsed_output", None)
        return d

    for display in (None, "omitted"):
        thinking = {"type": "enabled", "budget_tokens": 1024}
        if display:
            thinking["display"] = display
        request = dict(model=MODEL, max_tokens=2048, tools=TOOLS, thinking=thinking, messages=[question])
        plain = client.messages.create(**request)
        with client.messages.stream(**request) as s:
            streamed = s.get_final_message()
        for message in (plain, streamed):
            content = [dump(b) for b in message.content]
            seen.update(b["type"] for b in content)
            calls = [b for b in content if b["type"] == "tool_use"]
            assert calls, content
            follow_up = [
                question,
                {"role": "assistant", "content": content},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": c["id"], "content": "Sunny"} for c in calls]},
            ]
            answer = client.messages.create(model=MODEL, max_tokens=2048, tools=TOOLS, thinking=thinking, messages=follow_up)
            assert answer.stop_reason == "end_turn", answer
            # The answer's own blocks go back too, as the next assistant turn.
            again = follow_up + [
                {"role": "assistant", "content": [dump(b) for b in answer.content]},
                {"role": "user", "content": "Thanks. And tomorrow?"},
            ]
            client.messages.create(model=MODEL, max_tokens=2048, tools=TOOLS, thinking=thinking, messages=again)
    assert seen == {"thinking", "text", "tool_use"}, seen


@check
def caching():
    long_text_content = "<Your Code Here>" * 400

    def get_completion(user_input):
        return client.messages.create(
            model=MODEL,
            max_tokens=1024,
            system=[{"type": "text", "text": long_text_content, "cache_control": {"type": "ephemeral"}}],
            messages=[{"role": "user", "content": user_input}],
        )

    first = get_completion("What does this code do?")
    second = get_completion("How can this code be optimized?")
    # The first may read a cache an earlier run wrote; the second must read.
    assert first.usage.cache_creation_input_tokens + first.usage.cache_read_input_tokens >= 1024, first.usage
    assert second.usage.cache_read_input_tokens >= 1024, second.usage
    assert second.usage.cache_creation_input_tokens == 0, second.usage


@check
def structured_output():
    message = client.messages.create(
        model=MODEL,
        max_tokens=1024,
        messages=[{"role": "user", "content": "Extract key info from this email: John Smith (john@example.com) is interested in the Enterprise plan and wants to schedule a demo for next Tuesday at 2pm."}],
        output_config={
            "format": {
                "type": "json_schema",
                "schema": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "email": {"type": "string"},
                        "plan_interest": {"type": "string"},
                        "demo_requested": {"type": "boolean"},
                    },
                    "required": ["name", "email", "plan_interest", "demo_requested"],
                    "additionalProperties": False,
                },
            }
        },
    )
    data = json.loads(message.content[0].text)
    assert set(data) == {"name", "email", "plan_interest", "demo_requested"}, data
    assert data["email"] == "john@example.com", data
    assert isinstance(data["demo_requested"], bool)


@check
def count_tokens_matches_usage():
    request = dict(model=MODEL, system="You are terse.", messages=[{"role": "user", "content": "Count me, please."}])
    counted = client.messages.count_tokens(**request)
    message = client.messages.create(max_tokens=64, **request)
    assert counted.input_tokens == message.usage.input_tokens, (counted, message.usage)


@check
def models_and_errors():
    ids = [m.id for m in client.models.list()]
    assert MODEL in ids, ids
    try:
        client.messages.create(model="no-such-model", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    except anthropic.NotFoundError:
        pass
    else:
        raise AssertionError("unknown model accepted")
    bad = anthropic.Anthropic(api_key="wrong-key", base_url=BASE, max_retries=0)
    try:
        bad.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    except anthropic.AuthenticationError:
        pass
    else:
        raise AssertionError("wrong key accepted")
    try:
        client.messages.create(model=MODEL, max_tokens=0, messages=[{"role": "user", "content": "hi"}])
    except anthropic.BadRequestError as e:
        assert "max_tokens" in str(e)
    else:
        raise AssertionError("max_tokens 0 accepted")


def main():
    print(f"anthropic {anthropic.__version__} against {BASE}")
    failed = 0
    for fn in checks:
        try:
            fn()
            print(f"ok   {fn.__name__}")
        except Exception as e:  # noqa: BLE001 - report every failure
            failed += 1
            print(f"FAIL {fn.__name__}: {type(e).__name__}: {e}")
    if failed:
        print(f"{failed} of {len(checks)} checks failed")
        sys.exit(1)
    print(f"all {len(checks)} checks passed")


if __name__ == "__main__":
    main()
