/**
 * Writes one fetched page, mapped, into the person's HealthStore: the same RPC the uploads use
 * (`ingestBatch`, idempotent per source record and version, one audit event per call), with the
 * same per-call bounds (src/uploads/chunker.ts), so a page larger than one call is cut in several.
 * The audit actor is the sync service, acting for the person on data they connected.
 */
import { healthStoreFor } from "../../../durable-objects/health-store/client";
import { packObservations } from "../../../durable-objects/health-store/packed";
import { queueNarrativeRefresh } from "../../narratives/refresh";
import { CHUNK_OBSERVATIONS, CHUNK_SESSIONS, CHUNK_STAGES } from "../../uploads/chunker";
import type { MappedProviderData } from "../driver";
import type { ProviderName } from "../registry";

export interface StoredCounts {
  accepted: number;
  duplicate: number;
  flagged: number;
  rejected: number;
}

export const SYNC_STORE_ACTOR = "system:provider.sync";

export async function storeMapped(
  env: Env,
  target: { userId: string; provider: ProviderName; connectionId: string },
  mapped: MappedProviderData,
): Promise<StoredCounts> {
  const counts: StoredCounts = { accepted: 0, duplicate: 0, flagged: 0, rejected: mapped.rejected.length };
  const store = healthStoreFor(env.HEALTH_STORE, target.userId);
  for (const batch of batches(mapped)) {
    const result = await store.ingestBatch(
      { observations: packObservations(batch.observations), sleepSessions: batch.sleepSessions, workouts: batch.workouts },
      {
        actor: SYNC_STORE_ACTOR,
        role: "system",
        reason: `${target.provider} connection ${target.connectionId}`,
        requestId: null,
        ip: null,
        subject: target.userId,
      },
    );
    await queueNarrativeRefresh(env.SYNC, target.userId, result);
    for (const part of [result.observations, result.sleepSessions, result.workouts]) {
      counts.accepted += part.accepted + part.replaced;
      counts.duplicate += part.duplicate;
    }
    for (const item of [...batch.observations, ...batch.sleepSessions, ...batch.workouts]) if (item.flagged) counts.flagged++;
  }
  return counts;
}

type Batch = Pick<MappedProviderData, "observations" | "sleepSessions" | "workouts">;

function* batches(mapped: MappedProviderData): Generator<Batch> {
  let observations = 0;
  let sleep = 0;
  let workouts = 0;
  while (observations < mapped.observations.length || sleep < mapped.sleepSessions.length || workouts < mapped.workouts.length) {
    const batch: Batch = {
      observations: mapped.observations.slice(observations, observations + CHUNK_OBSERVATIONS),
      sleepSessions: [],
      workouts: [],
    };
    observations += batch.observations.length;
    let stages = 0;
    while (sleep < mapped.sleepSessions.length && batch.sleepSessions.length < CHUNK_SESSIONS) {
      const session = mapped.sleepSessions[sleep];
      const count = session?.stages?.length ?? 0;
      if (!session || (batch.sleepSessions.length > 0 && stages + count > CHUNK_STAGES)) break;
      batch.sleepSessions.push(session);
      stages += count;
      sleep++;
    }
    const room = CHUNK_SESSIONS - batch.sleepSessions.length;
    batch.workouts = mapped.workouts.slice(workouts, workouts + room);
    workouts += batch.workouts.length;
    yield batch;
  }
}
