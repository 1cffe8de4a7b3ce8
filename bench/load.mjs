// A closed-loop load generator: `concurrency` keep-alive connections to a loopback URL, each sending
// its next request as soon as the previous answer is fully read. Plain node:http keeps the
// client's own cost low, which matters when client and server share two cores.
import { Agent, request } from "node:http";

const REQUEST_TIMEOUT_MS = 10_000;

/** Any answer outside 2xx (or a transport error) stops the run: a bench of 429s measures nothing. */
export class NonSuccessError extends Error {
  constructor(url, failure) {
    super(`${url} answered ${failure.status}${failure.body ? `: ${failure.body.slice(0, 300)}` : ""}`);
    this.name = "NonSuccessError";
  }
}

function send(agent, url, headers) {
  return new Promise((resolvePromise) => {
    const started = performance.now();
    const req = request(url, { agent, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => {
        const ms = performance.now() - started;
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        resolvePromise({ ok, status, ms, body: ok ? "" : Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", (error) => resolvePromise({ ok: false, status: `error (${error.message})`, ms: 0, body: "" }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", (error) => resolvePromise({ ok: false, status: `error (${error.message})`, ms: 0, body: "" }));
    req.end();
  });
}

async function phase(agent, url, headers, concurrency, durationMs, latencies) {
  const deadline = performance.now() + durationMs;
  let failure;
  let completed = 0;
  const loop = async () => {
    while (failure === undefined && performance.now() < deadline) {
      const result = await send(agent, url, typeof headers === "function" ? headers() : headers);
      if (!result.ok) {
        failure = result;
        return;
      }
      completed += 1;
      latencies?.push(result.ms);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsedMs = performance.now() - started;
  if (failure !== undefined) throw new NonSuccessError(url, failure);
  return { completed, elapsedMs };
}

/**
 * Warms up for `warmupMs` (answers checked, not recorded), then measures for `durationMs`.
 * Returns the completed count, the measured wall time, every latency in milliseconds and, given a
 * `cpuMeter` (cumulative server CPU ms), the server CPU spent while measuring.
 */
export async function runLoad({ url, headers = {}, concurrency, warmupMs, durationMs, cpuMeter }) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    await phase(agent, url, headers, concurrency, warmupMs);
    const latencies = [];
    const cpuBefore = cpuMeter?.();
    const { completed, elapsedMs } = await phase(agent, url, headers, concurrency, durationMs, latencies);
    const cpuMs = cpuBefore === undefined ? undefined : cpuMeter() - cpuBefore;
    return { completed, elapsedMs, latencies, cpuMs };
  } finally {
    agent.destroy();
  }
}

/** One request with its headers, for the checks that run before any load. */
export function probe(url, headers = {}) {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () =>
        resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end();
  });
}
