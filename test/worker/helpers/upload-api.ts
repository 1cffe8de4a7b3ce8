import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { healthStoreFor } from "../../../durable-objects/health-store/client";
import { getDb } from "../../../src/db/client";
import { newId } from "../../../src/db/ids";
import { uploads } from "../../../src/db/schema";
import type { App } from "../../../src/http/types";
import { type IngestMessage, rawKey } from "../../../src/uploads/create-upload";
import type { UploadReceipt, UploadView } from "../../../src/uploads/uploads";
import type { SessionUser } from "./session-user";
import { call } from "./test-app";
import { sha256Hex } from "./upload-files";

/**
 * A HeartRate upload as the route leaves it, without queueing it: the test runs the job itself.
 * `updatedAt` back-dates it, as an upload that stopped making progress would be.
 */
export async function seedUpload(
  user: SessionUser,
  bytes: Uint8Array,
  recordCount: number,
  options: { status?: "queued" | "processing"; updatedAt?: Date } = {},
): Promise<{ id: string; key: string; message: IngestMessage }> {
  const id = newId("upl");
  const key = rawKey(user.user.id, "HeartRate", new Date(), id);
  await env.LAKE.put(key, bytes);
  const at = options.updatedAt ?? new Date();
  await getDb(env.DB)
    .insert(uploads)
    .values({
      id,
      userId: user.user.id,
      deviceId: null,
      sha256: await sha256Hex(bytes),
      recordType: "HeartRate",
      fileName: null,
      byteSize: bytes.byteLength,
      r2Key: key,
      status: options.status ?? "queued",
      recordCount,
      createdAt: at,
      updatedAt: at,
    });
  return { id, key, message: { type: "upload.ingest", uploadId: id, userId: user.user.id, requestId: null } };
}

/** Upload routes as a client calls them, and the waiting a client does for the ingest job. */
export interface PostOptions {
  contentType?: string;
  headers?: Record<string, string>;
}

export function postFile(app: App, user: SessionUser, body: BodyInit | null, options: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...user.headers, ...options.headers };
  if (options.contentType !== undefined || body !== null) headers["Content-Type"] = options.contentType ?? "application/avro";
  return call(app, "/v1/uploads", { method: "POST", headers, body });
}

export async function uploadOk(app: App, user: SessionUser, bytes: BodyInit, status = 202): Promise<UploadReceipt> {
  const res = await postFile(app, user, bytes);
  if (res.status !== status) expect.fail(`expected ${status}, got ${res.status}: ${await res.text()}`);
  return res.json<UploadReceipt>();
}

export async function getUpload(app: App, user: SessionUser, id: string): Promise<UploadView> {
  const res = await call(app, `/v1/uploads/${id}`, { headers: user.headers });
  if (res.status !== 200) expect.fail(`GET upload: ${res.status} ${await res.text()}`);
  return res.json<UploadView>();
}

/**
 * Polls the status route until the queue consumer (the real one, fed by the local INGEST queue)
 * has finished the upload. Bounded: a job that never finishes fails the test with its last state.
 */
export async function waitForUpload(app: App, user: SessionUser, id: string): Promise<UploadView> {
  let last: UploadView | undefined;
  for (let attempt = 0; attempt < 150; attempt++) {
    last = await getUpload(app, user, id);
    if (last.status === "completed" || last.status === "failed") return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return expect.fail(`upload ${id} still ${last?.status} after 15 s`);
}

export interface StoredCounts {
  observations: number;
  sleepSessions: number;
  workouts: number;
}

/** What the user's HealthStore holds, counted in its SQLite. */
export async function storedCounts(userId: string): Promise<StoredCounts> {
  const { runInDurableObject } = await import("cloudflare:test");
  return runInDurableObject(healthStoreFor(env.HEALTH_STORE, userId).stub, (_instance, state) => {
    const count = (table: string): number => {
      const exists = state.storage.sql
        .exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?", table)
        .one().n;
      return exists === 0 ? 0 : state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
    };
    return { observations: count("observations"), sleepSessions: count("sleep_sessions"), workouts: count("workouts") };
  });
}
