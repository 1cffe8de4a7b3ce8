import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseIngestBatch } from "../../durable-objects/health-store/batch-schema";
import type { ProviderBatch } from "../../src/providers/mapping/types";

/** Synthetic provider payloads, shaped as each provider documents them (test/fixtures/providers/). */
export function providerFixture(provider: string, file: string): unknown {
  return JSON.parse(readFileSync(resolve(import.meta.dirname, "../fixtures/providers", provider, file), "utf8"));
}

/** The contract data of ../shared/data/providers/. */
export function sharedProviderData(file: string): unknown {
  return JSON.parse(readFileSync(resolve(import.meta.dirname, "../../../shared/data/providers", file), "utf8"));
}

/**
 * The HealthStore's own batch validation, as `ingest` runs it: a mapping's output must be storable
 * as is. Returns the parsed batch so a test can also compare it with the input.
 */
export function parseAsStore(batch: ProviderBatch) {
  return parseIngestBatch({ observations: batch.observations, sleepSessions: batch.sleepSessions, workouts: batch.workouts });
}

export const FETCHED_AT = Date.UTC(2026, 2, 2, 12, 0, 0);
