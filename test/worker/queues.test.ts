import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { DomainError } from "../../src/errors/domain-error";
import { backoffSeconds, defineJob, handleQueueBatch, type JobRegistry, QUEUES } from "../../src/queues/consumer";
import { RetryLater } from "../../src/queues/retry-later";

const seen: string[] = [];
const registries: Record<string, JobRegistry> = {
  [QUEUES.ingest]: {
    "test.record": defineJob({
      schema: z.object({ type: z.literal("test.record"), value: z.string() }),
      async run(body) {
        seen.push(body.value);
      },
    }),
    "test.throttled": defineJob({
      schema: z.object({ type: z.literal("test.throttled") }),
      async run() {
        throw new DomainError("RATE_LIMITED", "The provider asked us to slow down.", { retryAfterSeconds: 90.2 });
      },
    }),
    "test.locked": defineJob({
      schema: z.object({ type: z.literal("test.locked") }),
      async run() {
        throw new RetryLater("someone else holds the lock", 15);
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

  it("retries after the delay a job asks for instead of the backoff", async () => {
    const at = new Date();
    const batch = createMessageBatch<unknown>(QUEUES.ingest, [
      { id: "m-throttled", timestamp: at, attempts: 4, body: { type: "test.throttled" } },
      { id: "m-locked", timestamp: at, attempts: 1, body: { type: "test.locked" } },
      { id: "m-flaky-again", timestamp: at, attempts: 2, body: { type: "test.flaky" } },
    ]);
    // getQueueResult lists retried messages without their delay: watch what the consumer asks for.
    const delays = new Map<string, number | undefined>();
    for (const message of batch.messages) {
      const retry = message.retry.bind(message);
      vi.spyOn(message, "retry").mockImplementation((options?: QueueRetryOptions) => {
        delays.set(message.id, options?.delaySeconds);
        retry(options);
      });
    }
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env, ctx, registries);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.map((m) => m.msgId).sort()).toEqual(["m-flaky-again", "m-locked", "m-throttled"]);
    expect(Object.fromEntries(delays)).toEqual({ "m-throttled": 91, "m-locked": 15, "m-flaky-again": backoffSeconds(2) });
  });

  it("backs off exponentially up to 15 minutes", () => {
    expect([1, 2, 3, 4, 10, 50].map(backoffSeconds)).toEqual([10, 20, 40, 80, 900, 900]);
  });
});
