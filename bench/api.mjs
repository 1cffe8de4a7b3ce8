// The client side of the ingest and query benches: Pulse's public HTTP API called the way a
// client app calls it (scripts/upload.mjs), plus the bench Worker's session route. Every request
// carries its own client address (CF-Connecting-IP), so the per-IP abuse limit on /v1 counts each
// one without refusing the bench's bursts; the per-user upload quota applies as usual.
import { Agent, request } from "node:http";

let client = 0;
function clientAddress() {
  client = (client + 1) % 65_536;
  return `10.77.${client >> 8}.${client & 255}`;
}

export class BenchApiError extends Error {}

/** Stops the part with a BenchApiError unless `condition` holds. */
export function check(condition, message) {
  if (!condition) throw new BenchApiError(message);
}

async function failure(res, what) {
  const text = await res.text();
  return new BenchApiError(`${what} answered ${res.status}: ${text.slice(0, 400)}`);
}

/** A fresh user, signed in (bench/worker.ts writes the session directly): its access token. */
export async function signIn(baseUrl) {
  return (await signInAs(baseUrl)).accessToken;
}

/** A fresh user of `role` (patient or clinician), signed in: `{accessToken, userId}`. */
export async function signInAs(baseUrl, role = "patient") {
  const res = await fetch(new URL(`/__bench/session?role=${role}`, baseUrl), { method: "POST" });
  if (!res.ok) throw await failure(res, "POST /__bench/session");
  return res.json();
}

/** `always`: headers sent with every request (a grantee's X-Access-Reason). */
export function apiClient(baseUrl, token, always = {}) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const headers = (extra = {}) => ({
    Authorization: `Bearer ${token}`,
    "CF-Connecting-IP": clientAddress(),
    ...always,
    ...extra,
  });

  async function getJson(path) {
    const res = await fetch(new URL(path, baseUrl), { headers: headers() });
    if (res.status !== 200) throw await failure(res, `GET ${path}`);
    return res.json();
  }

  return {
    /** `POST /v1/uploads` with the raw file; the receipt (202). */
    async upload(file) {
      const res = await fetch(new URL("/v1/uploads", baseUrl), {
        method: "POST",
        headers: headers({ "Content-Type": "application/avro", "Content-Disposition": `attachment; filename="${file.name}"` }),
        body: file.bytes,
      });
      if (res.status !== 202) throw await failure(res, `POST /v1/uploads (${file.name})`);
      return res.json();
    },

    /** The account's uploads, newest first (one page of up to 100). */
    uploads: () => getJson("/v1/uploads?limit=100"),

    /** Every page of `GET /v1/observations?…`: all items. */
    async observations(query) {
      const items = [];
      let cursor = null;
      do {
        const params = new URLSearchParams({ ...query, limit: "5000", ...(cursor ? { cursor } : {}) });
        const page = await getJson(`/v1/observations?${params}`);
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      return items;
    },

    /** Every page of `GET /v1/sleep?…`. */
    async sleep(query) {
      const items = [];
      let cursor = null;
      do {
        const params = new URLSearchParams({ ...query, limit: "1000", ...(cursor ? { cursor } : {}) });
        const page = await getJson(`/v1/sleep?${params}`);
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      return items;
    },

    /**
     * One timed request over a keep-alive connection (node:http: less client overhead than
     * fetch): milliseconds from sending to the last byte of the body, and the body.
     */
    timedGet(path) {
      return new Promise((resolvePromise, reject) => {
        const started = performance.now();
        const req = request(new URL(path, baseUrl), { agent, headers: headers(), timeout: 30_000 }, (res) => {
          const chunks = [];
          res.on("data", (chunk) => chunks.push(chunk));
          res.on("end", () => {
            const ms = performance.now() - started;
            const body = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 200)
              reject(new BenchApiError(`GET ${path} answered ${res.statusCode}: ${body.slice(0, 400)}`));
            else resolvePromise({ ms, body });
          });
          res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${path}: no answer within 30 s`)));
        req.on("error", reject);
        req.end();
      });
    },

    close: () => agent.destroy(),
  };
}

const sleep = (ms) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

/**
 * Polls the upload list every `intervalMs` until each of `ids` is completed; throws on a failed
 * upload or after `timeoutMs`. Returns, per upload, when it was first seen completed
 * (performance.now()) and its final row.
 */
export async function waitForUploads(api, ids, { intervalMs = 20, timeoutMs = 120_000 } = {}) {
  const done = new Map();
  const deadline = performance.now() + timeoutMs;
  while (done.size < ids.length) {
    if (performance.now() > deadline) {
      throw new BenchApiError(
        `uploads not completed within ${timeoutMs / 1000} s: ${ids.filter((id) => !done.has(id)).join(", ")}`,
      );
    }
    const { items } = await api.uploads();
    const now = performance.now();
    for (const upload of items) {
      if (!ids.includes(upload.id) || done.has(upload.id)) continue;
      if (upload.status === "failed") {
        throw new BenchApiError(`upload ${upload.id} (${upload.recordType}) failed: ${JSON.stringify(upload.error)}`);
      }
      if (upload.status === "completed") done.set(upload.id, { at: now, upload });
    }
    if (done.size < ids.length) await sleep(intervalMs);
  }
  return done;
}
