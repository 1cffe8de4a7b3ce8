import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import type { AnalystInput } from "../src/analyst/types.ts";
import { OpenAiCompatibleProvider } from "../src/model/openai.ts";
import { ModelError } from "../src/model/provider.ts";

interface Recorded {
  method: string | undefined;
  url: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

const QUESTION = "What was my average resting heart rate last week?";

const input: AnalystInput = {
  question: QUESTION,
  now: "2025-03-10T08:00:00Z",
  data: {
    metrics: {
      resting_heart_rate: {
        unit: "bpm",
        points: [
          { start: "2025-03-03T00:00:00Z", end: "2025-03-04T00:00:00Z", value: 58 },
          { start: "2025-03-04T00:00:00Z", end: "2025-03-05T00:00:00Z", value: 61 },
        ],
      },
      steps: { unit: "count", points: [{ start: "2025-03-03T00:00:00Z", end: "2025-03-04T00:00:00Z", value: 8412 }] },
    },
    sleep: [
      {
        start: "2025-03-03T23:00:00Z",
        end: "2025-03-04T07:00:00Z",
        stages: [{ stage: "deep", start: "2025-03-04T01:00:00Z", end: "2025-03-04T02:00:00Z" }],
      },
    ],
  },
};

/** The shape OpenAI returns from POST /v1/chat/completions (API reference, "The chat completion object"). */
function completion(content: string | null): object {
  return {
    id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    object: "chat.completion",
    created: 1741569952,
    model: "gpt-4o-2024-08-06",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: {
      prompt_tokens: 412,
      completion_tokens: 31,
      total_tokens: 443,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: "default",
    system_fingerprint: "fp_fc9f1d7035",
  };
}

type Reply = (request: IncomingMessage, response: ServerResponse, body: string) => void;

const json = (response: ServerResponse, status: number, value: unknown) => {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(value));
};

describe("OpenAiCompatibleProvider", () => {
  let server: Server;
  let baseUrl: string;
  let received: Recorded[];
  let reply: Reply;

  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        received.push({
          method: request.method,
          url: request.url,
          authorization: request.headers.authorization,
          body: JSON.parse(body),
        });
        reply(request, response, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });

  beforeEach(() => {
    received = [];
    reply = (_request, response) => json(response, 200, completion("  Your average resting heart rate was 59.5 bpm.\n"));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Asserts the provider fails with a ModelError naming `expected` and quoting nothing it was given. */
  async function assertFailsWith(provider: OpenAiCompatibleProvider, expected: RegExp, signal?: AbortSignal): Promise<void> {
    await assert.rejects(provider.answer(input, { signal }), (error: unknown) => {
      assert.ok(error instanceof ModelError, `expected a ModelError, got ${String(error)}`);
      assert.match(error.message, expected);
      for (const secret of [QUESTION, "resting_heart_rate", "8412", "sk-test"]) assert.ok(!error.message.includes(secret));
      assert.equal(error.cause, undefined);
      return true;
    });
  }

  it("posts a Chat Completions request carrying the question and data, and returns the trimmed answer", async () => {
    const provider = new OpenAiCompatibleProvider({ baseUrl: `${baseUrl}/`, model: "gpt-4o", apiKey: "sk-test" });
    const answer = await provider.answer(input);

    assert.deepEqual(answer, {
      answer: "Your average resting heart rate was 59.5 bpm.",
      usedMetrics: ["resting_heart_rate", "steps", "sleep"],
      figures: [],
    });
    assert.equal(provider.name, "openai:gpt-4o");
    assert.equal(received.length, 1);
    const [request] = received;
    assert.ok(request !== undefined);
    assert.equal(request.method, "POST");
    assert.equal(request.url, "/v1/chat/completions");
    assert.equal(request.authorization, "Bearer sk-test");

    const body = request.body as { model: string; temperature: number; messages: { role: string; content: string }[] };
    assert.equal(body.model, "gpt-4o");
    assert.equal(body.temperature, 0);
    assert.deepEqual(
      body.messages.map((message) => message.role),
      ["system", "user"],
    );
    const [system, user] = body.messages;
    assert.ok(system !== undefined && user !== undefined);
    assert.match(system.content, /only the data supplied/);
    assert.match(system.content, /state the numbers you used/);
    assert.match(system.content, /concisely/);
    assert.ok(user.content.includes(QUESTION));
    assert.ok(user.content.includes(input.now));
    assert.ok(user.content.includes(JSON.stringify(input.data)), "the data travels as compact JSON");
  });

  it("sends no Authorization header without an API key and leaves sleep out when there are no sessions", async () => {
    const provider = new OpenAiCompatibleProvider({ baseUrl, model: "llama3" });
    const answer = await provider.answer({ ...input, data: { metrics: { steps: { unit: "count", points: [] } }, sleep: [] } });
    assert.deepEqual(answer.usedMetrics, ["steps"]);
    assert.equal(received[0]?.authorization, undefined);
  });

  it("reports a non-2xx status without the error body", async () => {
    reply = (_request, response, body) => json(response, 500, { error: { message: `upstream failed on ${body}` } });
    await assertFailsWith(new OpenAiCompatibleProvider({ baseUrl, model: "gpt-4o", apiKey: "sk-test" }), /HTTP 500/);
  });

  it("reports a body that is not JSON as malformed", async () => {
    reply = (_request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end(`<html>${QUESTION}</html>`);
    };
    await assertFailsWith(new OpenAiCompatibleProvider({ baseUrl, model: "gpt-4o" }), /malformed response.*not JSON/);
  });

  it("reports a completion without choices as malformed", async () => {
    reply = (_request, response) => json(response, 200, { ...completion(""), choices: [], echo: QUESTION });
    await assertFailsWith(new OpenAiCompatibleProvider({ baseUrl, model: "gpt-4o" }), /malformed response.*choices\[0\]/);
  });

  it("reports a refusal (null content) and a blank answer as malformed", async () => {
    reply = (_request, response) => json(response, 200, completion(null));
    await assertFailsWith(new OpenAiCompatibleProvider({ baseUrl, model: "gpt-4o" }), /malformed response/);
    reply = (_request, response) => json(response, 200, completion(" \n "));
    await assertFailsWith(new OpenAiCompatibleProvider({ baseUrl, model: "gpt-4o" }), /malformed response.*empty/);
  });

  it("gives up with a timeout when the endpoint never answers", { timeout: 5_000 }, async () => {
    reply = () => {};
    await assertFailsWith(new OpenAiCompatibleProvider({ baseUrl, model: "gpt-4o", timeoutMs: 100 }), /timeout/);
    server.closeAllConnections();
  });

  it("stops when the caller aborts", { timeout: 5_000 }, async () => {
    reply = () => {};
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error(QUESTION)), 50);
    await assertFailsWith(new OpenAiCompatibleProvider({ baseUrl, model: "gpt-4o" }), /aborted/, controller.signal);
    server.closeAllConnections();
  });

  it("reports an endpoint that refuses connections", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const provider = new OpenAiCompatibleProvider({ baseUrl: `http://127.0.0.1:${port}/v1`, model: "gpt-4o" });
    await assertFailsWith(provider, /connection failed \(ECONNREFUSED\)/);
  });

  it("refuses a base URL that is not http(s)", () => {
    assert.throws(() => new OpenAiCompatibleProvider({ baseUrl: "file:///etc/passwd", model: "gpt-4o" }), TypeError);
    assert.throws(() => new OpenAiCompatibleProvider({ baseUrl, model: "gpt-4o", timeoutMs: 0 }), RangeError);
  });
});
