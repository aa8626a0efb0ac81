// Client-impact calibration with the official TypeScript SDK (tests/integration/calibration).
// The same plan, modes and output lines as calibrate_python.py: one JSON line per case and mode,
// {case, mode, outcome: "returned" | "raised" | "timeout", error, status, result}.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const sdk = require("@anthropic-ai/sdk");
const Anthropic = sdk.default ?? sdk.Anthropic ?? sdk;
const pkg = JSON.parse(readFileSync(new URL("./node_modules/@anthropic-ai/sdk/package.json", import.meta.url), "utf8"));

const PLAN = JSON.parse(readFileSync(process.env.CONFORM_CALIBRATION_PLAN, "utf8"));
const TIMEOUT = 1000 * Number(process.env.CONFORM_CALIBRATION_TIMEOUT || "15");

const count = (v) => (Number.isInteger(v) ? v : null);

function summary(message) {
  let text = "", thinking = "";
  const tools = [];
  for (const b of message?.content ?? []) {
    if (!b || typeof b !== "object") continue;
    if (b.type === "text") text += b.text ?? "";
    else if (b.type === "thinking") thinking += b.thinking ?? "";
    else if (b.type === "tool_use") tools.push(b.input);
  }
  const u = message?.usage && typeof message.usage === "object" ? message.usage : {};
  return {
    text, thinking, tools,
    stop_reason: message?.stop_reason ?? null,
    usage: {
      input_tokens: count(u.input_tokens),
      output_tokens: count(u.output_tokens),
      cache_creation_input_tokens: count(u.cache_creation_input_tokens) ?? 0,
      cache_read_input_tokens: count(u.cache_read_input_tokens) ?? 0,
    },
  };
}

// Raw events accumulated the way an application iterating `stream: true` does.
async function rawStream(client, body) {
  let message = {};
  const blocks = new Map();
  const partial = new Map();
  const stream = await client.messages.create({ ...body, stream: true });
  for await (const e of stream) {
    if (e.type === "message_start") message = { ...e.message, usage: { ...(e.message?.usage ?? {}) } };
    else if (e.type === "content_block_start") blocks.set(e.index, { ...e.content_block });
    else if (e.type === "content_block_delta") {
      const b = blocks.get(e.index) ?? {};
      blocks.set(e.index, b);
      const d = e.delta ?? {};
      if (d.type === "text_delta") b.text = (b.text ?? "") + (d.text ?? "");
      else if (d.type === "thinking_delta") b.thinking = (b.thinking ?? "") + (d.thinking ?? "");
      else if (d.type === "input_json_delta") partial.set(e.index, (partial.get(e.index) ?? "") + (d.partial_json ?? ""));
      else if (d.type === "signature_delta") b.signature = d.signature;
    } else if (e.type === "content_block_stop") {
      if (partial.has(e.index)) {
        blocks.get(e.index).input = JSON.parse(partial.get(e.index) || "{}");
        partial.delete(e.index);
      }
    } else if (e.type === "message_delta") {
      Object.assign(message, e.delta ?? {});
      for (const [k, v] of Object.entries(e.usage ?? {})) if (v !== null && v !== undefined) (message.usage ??= {})[k] = v;
    }
  }
  message.content = [...blocks.keys()].sort((a, b) => a - b).map((i) => blocks.get(i));
  return message;
}

function nextTurn(body, content) {
  const results = content
    .filter((b) => b && b.type === "tool_use")
    .map((b) => ({ type: "tool_result", tool_use_id: b.id, content: "18 degrees, sunny" }));
  return {
    ...body,
    messages: [...body.messages, { role: "assistant", content }, { role: "user", content: results.length ? results : "Thanks. Say it again, shorter." }],
  };
}

async function runMode(c, mode, kept) {
  const client = new Anthropic({ apiKey: c.api_key, baseURL: c.base_url, maxRetries: c.retries ?? 0, timeout: TIMEOUT });
  const body = c.body ?? {};
  if (mode === "call") {
    if (c.endpoint === "count_tokens") return { input_tokens: (await client.messages.countTokens(body)).input_tokens };
    const page = await client.models.list();
    return { models: page.data.map((m) => m.id) };
  }
  if (mode === "stream_final") {
    const m = await client.messages.stream(body).finalMessage();
    kept.content = m.content;
    return summary(m);
  }
  if (mode === "stream_raw") return summary(await rawStream(client, body));
  if (mode === "create") {
    const m = await client.messages.create(body);
    kept.content ??= m.content;
    return summary(m);
  }
  if (mode === "passback") {
    if (!kept.content) return null;
    const back = new Anthropic({ apiKey: c.api_key, baseURL: c.passback_url, maxRetries: 0, timeout: TIMEOUT });
    const m = await back.messages.create(nextTurn(body, kept.content));
    return { passed_back: true, stop_reason: m.stop_reason };
  }
  throw new Error(`unknown mode ${mode}`);
}

for (const c of PLAN.cases) {
  const kept = {};
  for (const mode of c.modes) {
    const line = { case: c.name, mode };
    try {
      const result = await runMode(c, mode, kept);
      if (result === null) continue;
      Object.assign(line, { outcome: "returned", result });
    } catch (e) {
      if (e instanceof sdk.APIConnectionTimeoutError) Object.assign(line, { outcome: "timeout", error: String(e) });
      else if (e instanceof sdk.APIError && e.status) Object.assign(line, { outcome: "raised", status: e.status, error: `${e.constructor.name}: ${e.message}` });
      else Object.assign(line, { outcome: "raised", error: `${e?.constructor?.name ?? "Error"}: ${e?.message ?? e}`.slice(0, 300) });
    }
    console.log(JSON.stringify(line));
  }
}
console.log(JSON.stringify({ sdk: "typescript", version: pkg.version }));
