import { execFile } from "node:child_process";
import { openAsBlob } from "node:fs";
import { readdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPulseClient, type PulseClient, uploadBody } from "../../sdk/client/index.ts";
import { type DevServer, startDevServer } from "./dev-server";

/**
 * The generated client (sdk/client) against `npm run dev`, as a developer meets Pulse on a fresh
 * machine (DESIGN §10): sign up with scripts/dev-signup.mjs, upload the Health Connect samples
 * through the client, and read each upload back through it until the ingest job has completed.
 * No browser needed; it lives with the browser tests because they share the dev server harness.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const NODE = join(ROOT, "node_modules/.bin/node");
const SAMPLES = resolve(ROOT, "../shared/data/health-connect/samples");
/** Observations and sessions each sample yields, all in range (test/worker/ingest.test.ts reads the same files). */
const EXPECTED: Record<string, number> = {
  ActiveCaloriesBurned: 1,
  BloodGlucose: 12,
  HeartRate: 15,
  HeartRateVariabilityRmssd: 6,
  SleepSession: 1,
  Steps: 1,
};

let server: DevServer | undefined;
beforeAll(async () => {
  server = await startDevServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Signs up through scripts/dev-signup.mjs and returns the access token it exports. */
async function signUp(url: string): Promise<string> {
  const { stdout } = await promisify(execFile)(NODE, ["scripts/dev-signup.mjs", "--url", url], { cwd: ROOT });
  const token = /^export PULSE_TOKEN=(".*")$/m.exec(stdout)?.[1];
  if (!token) throw new Error(`dev-signup printed no token:\n${stdout}`);
  return JSON.parse(token) as string;
}

async function waitUntilDone(pulse: PulseClient, id: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { data, error } = await pulse.GET("/v1/uploads/{id}", { params: { path: { id } } });
    if (!data) throw new Error(`GET /v1/uploads/${id} refused: ${JSON.stringify(error)}`);
    if (data.status === "completed" || data.status === "failed" || Date.now() > deadline) return data;
    await new Promise((done) => setTimeout(done, 250));
  }
}

describe("the generated client against npm run dev", () => {
  it("uploads the Health Connect samples and reads each one back completed, with its counts", async () => {
    if (!server) throw new Error("the dev server did not start");
    // WebAuthn's RP ID is `localhost` in development: sign up on that host name.
    const token = await signUp(server.url.replace("127.0.0.1", "localhost"));
    const pulse = createPulseClient({ baseUrl: server.url, token });

    const files = (await readdir(SAMPLES)).filter((name) => name.endsWith(".avro")).sort();
    expect(files).toHaveLength(Object.keys(EXPECTED).length);
    const ids: string[] = [];
    for (const name of files) {
      const { data, error, response } = await pulse.POST("/v1/uploads", uploadBody(await openAsBlob(join(SAMPLES, name)), name));
      expect(error).toBeUndefined();
      expect(response.status).toBe(202);
      expect(data).toMatchObject({ status: "queued", statusUrl: `/v1/uploads/${data?.uploadId}` });
      ids.push(data?.uploadId ?? "");
    }

    for (const id of ids) {
      const upload = await waitUntilDone(pulse, id);
      expect(upload).toMatchObject({
        status: "completed",
        error: null,
        counts: { accepted: EXPECTED[upload.recordType], duplicate: 0, flagged: 0, rejected: 0 },
      });
      expect(upload.completedAt).not.toBeNull();
    }

    const { data: page } = await pulse.GET("/v1/uploads", { params: { query: { limit: 50 } } });
    expect(page?.items.map((upload) => upload.id).sort()).toEqual([...ids].sort());

    const again = await pulse.POST("/v1/uploads", uploadBody(await openAsBlob(join(SAMPLES, files[0] ?? "")), "again.avro"));
    expect(again.response.status).toBe(200);
    expect(again.data?.uploadId).toBe(ids[0]);
  });
});
