import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { backoffSeconds, defineJob, handleQueueBatch, type JobRegistry, QUEUES } from "../../src/queues/consumer";

const seen: string[] = [];
const registries: Record<string, JobRegistry> = {
  [QUEUES.ingest]: {
    "test.record": defineJob({
      schema: z.object({ type: z.literal("test.record"), value: z.string() }),
      async run(body) {
        seen.push(body.value);
      },
    }),
    "test.flaky": defineJob({
      schema: z.object({ type: z.literal("test.flaky") }),
      async run() {
        throw new Error("provider timed out");
      },
    }),
  },
};

async function deadLetter(queue: string, id: string, at: Date): Promise<Record<string, unknown> | null> {
  const object = await env.LAKE.get(`dead-letters/${queue}/${at.toISOString().slice(0, 10)}/${id}.json`);
  return object ? await object.json<Record<string, unknown>>() : null;
}

describe("queue consumer", () => {
  it("acks messages its job handled and retries failures with backoff", async () => {
    const at = new Date();
    const batch = createMessageBatch<unknown>(QUEUES.ingest, [
      { id: "m-ok", timestamp: at, attempts: 1, body: { type: "test.record", value: "first" } },
      { id: "m-flaky", timestamp: at, attempts: 3, body: { type: "test.flaky" } },
    ]);
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env, ctx, registries);
    const result = await getQueueResult(batch, ctx);
    expect(seen).toContain("first");
    expect(result.explicitAcks).toEqual(["m-ok"]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m-flaky"]);
  });

  it("keeps unprocessable messages in R2 instead of retrying them forever", async () => {
    const at = new Date();
    const batch = createMessageBatch<unknown>(QUEUES.ingest, [
      { id: "m-unknown", timestamp: at, attempts: 1, body: { type: "test.nobody-handles-this" } },
      { id: "m-invalid", timestamp: at, attempts: 1, body: { type: "test.record", value: 42 } },
      { id: "m-garbage", timestamp: at, attempts: 1, body: "not an envelope" },
    ]);
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env, ctx, registries);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m-garbage", "m-invalid", "m-unknown"]);
    expect(result.retryMessages).toEqual([]);
    expect(await deadLetter(QUEUES.ingest, "m-unknown", at)).toMatchObject({ reason: "unknown message type" });
    expect(await deadLetter(QUEUES.ingest, "m-invalid", at)).toMatchObject({
      reason: "invalid message body",
      body: { type: "test.record", value: 42 },
    });
    expect(await deadLetter(QUEUES.ingest, "m-garbage", at)).toMatchObject({ reason: "invalid envelope" });
  });

  it("keeps every message arriving on a dead-letter queue", async () => {
    const at = new Date();
    const batch = createMessageBatch<unknown>(QUEUES.syncDlq, [
      { id: "m-dead", timestamp: at, attempts: 1, body: { type: "tokens.refresh", connectionId: "c1" } },
    ]);
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["m-dead"]);
    expect(await deadLetter(QUEUES.syncDlq, "m-dead", at)).toMatchObject({
      queue: QUEUES.syncDlq,
      reason: "retries exhausted",
      body: { type: "tokens.refresh", connectionId: "c1" },
    });
  });

  it("backs off exponentially up to 15 minutes", () => {
    expect([1, 2, 3, 4, 10, 50].map(backoffSeconds)).toEqual([10, 20, 40, 80, 900, 900]);
  });
});
