// Round trips every block type of today's API through the official TypeScript SDK: the cases
// of tests/sdk/roundtrip_cases.json (shared with roundtrip_python.py), each answered by the
// reference server with one kind of block, checked as the SDK parsed it, then passed back as
// the assistant turn of the next request, which must be accepted. Each case runs from
// `messages.create` and from `messages.stream(...).finalMessage()`; a last case sends
// tool_result blocks with is_error, image and document content.
//   CONFORM_BASE_URL=http://127.0.0.1:8787 node tests/sdk/roundtrip_ts.mjs
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import assert from "node:assert/strict";

const require = createRequire(import.meta.url);
const SDK = process.env.CONFORM_SDK_PATH || "@anthropic-ai/sdk";
const sdk = require(SDK);
const Anthropic = sdk.default ?? sdk.Anthropic ?? sdk;

// The SDK's version, from the nearest package.json above its entry point that names a package
// (the package's `exports` do not expose package.json itself).
function sdkVersion() {
  let dir = path.dirname(require.resolve(SDK));
  while (dir !== path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8"));
      if (pkg.name && pkg.version) return pkg.version;
    }
    dir = path.dirname(dir);
  }
  return "unknown";
}
const version = sdkVersion();

const MODEL = process.env.CONFORM_MODEL || "conform-mock";
const client = new Anthropic({
  apiKey: process.env.CONFORM_API_KEY || "conform-test-key",
  baseURL: process.env.CONFORM_BASE_URL,
  maxRetries: 0,
});
const SPEC = JSON.parse(readFileSync(new URL("./roundtrip_cases.json", import.meta.url), "utf8"));

async function firstTurn(c, stream) {
  const body = { ...c.request, model: MODEL };
  const options = c.headers ? { headers: c.headers } : undefined;
  if (stream) return client.messages.stream(body, options).finalMessage();
  return client.messages.create(body, options);
}

// The next turn: the answer passed back as the SDK gave it, then what a loop sends.
async function followUp(c, message) {
  const messages = [...c.request.messages, { role: "assistant", content: message.content }];
  if (message.stop_reason === "tool_use") {
    messages.push({
      role: "user",
      content: message.content
        .filter((b) => b.type === "tool_use")
        .map((b) => ({ type: "tool_result", tool_use_id: b.id, content: "Sunny, 24 degrees Celsius." })),
    });
  } else if (message.stop_reason !== "pause_turn") {
    messages.push({ role: "user", content: "Thank you. Say it once more in five words." });
  }
  const options = c.headers ? { headers: c.headers } : undefined;
  return client.messages.create({ ...c.request, model: MODEL, messages }, options);
}

async function checkCase(c, stream) {
  const message = await firstTurn(c, stream);
  const types = new Set(message.content.map((b) => b.type));
  const missing = c.blocks.filter((t) => !types.has(t));
  assert.deepEqual(missing, [], `blocks ${missing} missing from ${[...types]}`);
  if (c.stop_reason) assert.equal(message.stop_reason, c.stop_reason);
  if (c.stop_reason === "refusal") assert.ok(message.stop_details, "the SDK kept no stop_details");
  if (c.citations) {
    const kinds = new Set(
      message.content.filter((b) => b.type === "text").flatMap((b) => (b.citations ?? []).map((x) => x.type)),
    );
    assert.ok(kinds.has(c.citations), `citations of types ${[...kinds]}`);
  }
  const next = await followUp(c, message);
  assert.equal(next.type, "message");
  assert.ok(next.content.length > 0);
  return [message.stop_reason, next.stop_reason];
}

async function toolResultsWithMedia() {
  const { png, tools } = SPEC.tool_result_media;
  const ask = { role: "user", content: "What is the weather in Hangzhou?" };
  const first = await client.messages.create({
    model: MODEL, max_tokens: 1024, tools, tool_choice: { type: "tool", name: "get_weather" }, messages: [ask],
  });
  const call = first.content.find((b) => b.type === "tool_use");
  const image = { type: "image", source: { type: "base64", media_type: "image/png", data: png } };
  const document = { type: "document", source: { type: "text", media_type: "text/plain", data: "Hangzhou: sunny, 24 degrees." } };
  for (const extra of [
    { content: "the weather service timed out", is_error: true },
    { content: [image] },
    { content: [document] },
  ]) {
    const result = { type: "tool_result", tool_use_id: call.id, ...extra };
    const next = await client.messages.create({
      model: MODEL, max_tokens: 1024, tools,
      messages: [ask, { role: "assistant", content: first.content }, { role: "user", content: [result] }],
    });
    assert.ok(next.content.length > 0);
  }
}

let n = 0;
for (const c of SPEC.cases) {
  for (const stream of [false, true]) {
    const label = `${c.name} (${stream ? "stream" : "create"})`;
    try {
      const [stop, next] = await checkCase(c, stream);
      console.log(`ok   ${label}: stop ${stop}, next turn accepted (${next})`);
      n += 1;
    } catch (e) {
      console.log(`FAIL ${label}: ${e.name}: ${e.message}`);
      process.exit(1);
    }
  }
}
try {
  await toolResultsWithMedia();
} catch (e) {
  console.log(`FAIL tool_result with is_error, image and document content: ${e.name}: ${e.message}`);
  process.exit(1);
}
console.log("ok   tool_result with is_error, image and document content accepted");
n += 1;
console.log(`${n} round trips passed (@anthropic-ai/sdk ${version})`);
