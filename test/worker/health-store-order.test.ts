import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { Observation } from "../../durable-objects/health-store/schema";
import { DomainError } from "../../src/errors/domain-error";
import { systemAudit } from "./helpers/fhir";
import { observationInput } from "./helpers/observations";

/** The raw observation read newest first: the same (start, id) pages, walked the other way. */
const base = Date.parse("2026-01-15T00:00:00Z");

type Store = { store: ReturnType<typeof healthStoreFor>; userId: string };

async function storeWithSamples(): Promise<Store> {
  const userId = `usr_${crypto.randomUUID().replaceAll("-", "").slice(0, 26)}`;
  const store = healthStoreFor(env.HEALTH_STORE, userId);
  // Two metrics at shared instants, so pages split runs of equal starts.
  const observations = Array.from({ length: 9 }, (_, i) =>
    i % 2 === 0
      ? observationInput("heart_rate", "bpm", base + Math.floor(i / 2) * 60_000, 60 + i)
      : observationInput("steps", "count", base + Math.floor(i / 2) * 60_000, 10 + i),
  );
  await store.ingestBatch({ observations }, systemAudit(userId));
  return { store, userId };
}

async function walk({ store, userId }: Store, order: "asc" | "desc", limit: number): Promise<Observation[]> {
  const items: Observation[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.queryObservations(
      { metrics: ["heart_rate", "steps"], order, limit, ...(cursor === undefined ? {} : { cursor }) },
      systemAudit(userId),
    );
    if (page.resolution !== "raw") throw new Error("raw expected");
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return items;
}

describe("raw observations newest first", () => {
  it("pages through the reverse of the oldest-first order, for every page size", async () => {
    const store = await storeWithSamples();
    const oldest = await walk(store, "asc", 100);
    expect(oldest.map((item) => item.value)).toEqual([60, 11, 62, 13, 64, 15, 66, 17, 68]);
    for (const limit of [1, 2, 3, 9]) {
      expect((await walk(store, "desc", limit)).map((item) => item.id)).toEqual(oldest.map((item) => item.id).reverse());
    }
  });

  it("refuses a cursor of one order in the other", async () => {
    const { store, userId } = await storeWithSamples();
    const page = await store.queryObservations(
      { metrics: ["heart_rate", "steps"], order: "desc", limit: 2 },
      systemAudit(userId),
    );
    const cursor = page.nextCursor ?? "";
    await expect(
      store.queryObservations({ metrics: ["heart_rate", "steps"], limit: 2, cursor }, systemAudit(userId)),
    ).rejects.toBeInstanceOf(DomainError);
  });
});
