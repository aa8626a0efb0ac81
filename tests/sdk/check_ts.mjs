// Runs the seed provider's examples with the official TypeScript SDK (@anthropic-ai/sdk)
// against `conform mock`. Run by tests/integration/mock_sdk.rs (CI installs the SDK); by hand:
//   npm install --prefix tests/sdk
//   CONFORM_BASE_URL=http://127.0.0.1:8787 node tests/sdk/check_ts.mjs
import { createRequire } from "node:module";
import assert from "node:assert/strict";

const require = createRequire(import.meta.url);
const sdk = require(process.env.CONFORM_SDK_PATH || "@anthropic-ai/sdk");
const Anthropic = sdk.default ?? sdk.Anthropic ?? sdk;

const BASE = process.env.CONFORM_BASE_URL;
const KEY = process.env.CONFORM_API_KEY || "conform-test-key";
const MODEL = process.env.CONFORM_MODEL || "conform-mock";
const client = new Anthropic({ apiKey: KEY, baseURL: BASE, maxRetries: 0 });

const TOOLS = [{
  name: "get_weather",
  description: "Get weather information for a specified city",
  input_schema: { type: "object", properties: { city: { type: "string", description: "City name" } }, required: ["city"] },
}];

const checks = {
  async basic() {
    const m = await client.messages.create({
      model: MODEL, max_tokens: 1024, system: "You are a helpful assistant",
      messages: [{ role: "user", content: "Who are you?" }], thinking: { type: "disabled" },
    });
    assert.ok(m.content[0].text);
    assert.ok(m.id.startsWith("msg_"));
  },
  async streamingRaw() {
    const stream = await client.messages.create({
      model: MODEL, max_tokens: 1024, stream: true, thinking: { type: "disabled" },
      messages: [{ role: "user", content: "Give a brief introduction to artificial intelligence." }],
    });
    let text = "";
    for await (const chunk of stream) {
      if (chunk.type === "content_block_delta" && "text" in chunk.delta) text += chunk.delta.text;
    }
    assert.ok(text);
  },
  async streamHelperFinalMessage() {
    const s = client.messages.stream({
      model: MODEL, max_tokens: 2048, thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: "Analyze the future prospects of quantum computing." }],
    });
    let text = "";
    s.on("text", (t) => { text += t; });
    const final = await s.finalMessage();
    assert.equal(final.content[0].type, "thinking");
    assert.ok(final.content[0].signature);
    assert.equal(final.content[1].text, text);
  },
  async imageAndVideo() {
    for (const block of [
      { type: "image", source: { type: "url", url: "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20250414/mqqmiy/animal_01.jpg" } },
      { type: "video", source: { type: "url", url: "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20251208/zpupby/3e81ef38-98f0-4d55-bbb6-259334ca18d0.mp4" } },
    ]) {
      const stream = await client.messages.create({
        model: MODEL, max_tokens: 1024, stream: true, thinking: { type: "disabled" },
        messages: [{ role: "user", content: [block, { type: "text", text: "Describe the content." }] }],
      });
      let text = "";
      for await (const c of stream) if (c.type === "content_block_delta" && "text" in c.delta) text += c.delta.text;
      assert.ok(text);
    }
  },
  async toolsRoundTrip() {
    const q = { role: "user", content: "What's the weather like in Hangzhou today?" };
    const m = await client.messages.create({ model: MODEL, max_tokens: 1024, tools: TOOLS, messages: [q] });
    assert.equal(m.stop_reason, "tool_use");
    const call = m.content.find((b) => b.type === "tool_use");
    const streamed = await client.messages.stream({ model: MODEL, max_tokens: 1024, tools: TOOLS, messages: [q] }).finalMessage();
    assert.deepEqual(streamed.content.find((b) => b.type === "tool_use").input, call.input);
    const answer = await client.messages.create({
      model: MODEL, max_tokens: 1024, tools: TOOLS,
      messages: [q, { role: "assistant", content: m.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "Sunny" }] }],
    });
    assert.equal(answer.stop_reason, "end_turn");
  },
  // Every content-block type the mock produces (thinking, text, tool_use; streamed and not;
  // thinking shown and omitted), passed back as the assistant turn, is accepted.
  async passBackRoundTrip() {
    const q = { role: "user", content: "What's the weather like in Hangzhou today?" };
    const seen = new Set();
    for (const display of [undefined, "omitted"]) {
      const thinking = { type: "enabled", budget_tokens: 1024, ...(display ? { display } : {}) };
      const request = { model: MODEL, max_tokens: 2048, tools: TOOLS, thinking, messages: [q] };
      const plain = await client.messages.create(request);
      const streamed = await client.messages.stream(request).finalMessage();
      for (const m of [plain, streamed]) {
        m.content.forEach((b) => seen.add(b.type));
        const calls = m.content.filter((b) => b.type === "tool_use");
        assert.ok(calls.length > 0);
        const followUp = [q, { role: "assistant", content: m.content },
          { role: "user", content: calls.map((c) => ({ type: "tool_result", tool_use_id: c.id, content: "Sunny" })) }];
        const answer = await client.messages.create({ ...request, messages: followUp });
        assert.equal(answer.stop_reason, "end_turn");
        await client.messages.create({ ...request, messages: [...followUp,
          { role: "assistant", content: answer.content }, { role: "user", content: "Thanks. And tomorrow?" }] });
      }
    }
    assert.deepEqual([...seen].sort(), ["text", "thinking", "tool_use"]);
  },
  async caching() {
    const long = "<Your Code Here>".repeat(400);
    const get = (input) => client.messages.create({
      model: MODEL, max_tokens: 1024,
      system: [{ type: "text", text: long, cache_control: { type: "ephemeral" } }],
      messages: [{ role: "user", content: input }],
    });
    await get("What does this code do?");
    const second = await get("How can this code be optimized?");
    assert.ok(second.usage.cache_read_input_tokens >= 1024);
  },
  async structuredOutput() {
    const m = await client.messages.create({
      model: MODEL, max_tokens: 1024,
      messages: [{ role: "user", content: "Extract key info from this email: John Smith (john@example.com) is interested in the Enterprise plan." }],
      output_config: { format: { type: "json_schema", schema: {
        type: "object",
        properties: { name: { type: "string" }, email: { type: "string" }, plan_interest: { type: "string" }, demo_requested: { type: "boolean" } },
        required: ["name", "email", "plan_interest", "demo_requested"], additionalProperties: false,
      } } },
    });
    const data = JSON.parse(m.content[0].text);
    assert.equal(data.email, "john@example.com");
  },
};

let failed = 0;
for (const [name, fn] of Object.entries(checks)) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}
if (failed) {
  console.log(`${failed} checks failed`);
  process.exit(1);
}
console.log(`all ${Object.keys(checks).length} checks passed (${process.env.CONFORM_SDK_PATH || "@anthropic-ai/sdk"} ${sdk.VERSION ?? "?"})`);
