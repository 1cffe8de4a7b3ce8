// Audit verification (docs/audit.md, "Verification"): how long `GET /v1/audit/verify?userId=` takes
// on a chain of 100k events sealed in 100 chunks, per 10k events, against references measured in
// the same run on the same store:
//  (a) sealed: the full verification: seal rows from D1, every chunk from R2 and its SHA-256, every
//      sealed event's hash recomputed, every live event compared with its sealed copy;
//  (b) live only: the store's older `verifyAudit`, recomputing the live chain alone (no seals);
//  (c) floor: SHA-256 with WebCrypto of each event's hash input (prevHash ‖ canonical event), the
//      bytes prepared beforehand: what hashing alone costs, whatever the code around it.
// Each is one call across the store's RPC, timed by this client; the median of the rounds is kept.
import { BenchApiError } from "./api.mjs";

export const AUDIT_EVENTS = 100_000;
/** Sealed verification may cost at most this much more than recomputing the live chain alone. */
export const AUDIT_TARGET_RATIO = 3;

async function post(baseUrl, path) {
  const res = await fetch(new URL(path, baseUrl), { method: "POST" });
  if (!res.ok) throw new BenchApiError(`POST ${path} answered ${res.status}: ${(await res.text()).slice(0, 400)}`);
  return res.json();
}

async function timed(run) {
  const start = performance.now();
  const value = await run();
  return { ms: performance.now() - start, value };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function benchAudit({ baseUrl, events = AUDIT_EVENTS, rounds = 3, step = () => {} }) {
  step(`audit: writing and sealing a chain of ${events.toLocaleString("en")} events`);
  const seed = await timed(() => post(baseUrl, `/__bench/audit/seed?events=${events}`));
  const { userId, chunks } = seed.value;
  const query = `userId=${userId}`;
  const samples = { sealed: [], live: [], floor: [] };
  for (let round = 1; round <= rounds; round += 1) {
    step(`audit round ${round}/${rounds}: sealed verification, live chain only, WebCrypto floor`);
    const sealed = await timed(() => post(baseUrl, `/__bench/audit/sealed?${query}`));
    const report = sealed.value;
    if (!report.ok || report.eventsChecked !== events || report.chunksChecked !== Math.ceil(events / 1000)) {
      throw new BenchApiError(`sealed verification did not check the whole chain: ${JSON.stringify(report)}`);
    }
    const live = await timed(() => post(baseUrl, `/__bench/audit/live?${query}`));
    if (!live.value.ok || live.value.count !== events)
      throw new BenchApiError(`live verification: ${JSON.stringify(live.value)}`);
    await post(baseUrl, `/__bench/audit/prepare?${query}`);
    const floor = await timed(() => post(baseUrl, `/__bench/audit/floor?${query}`));
    samples.sealed.push(sealed.ms);
    samples.live.push(live.ms);
    samples.floor.push(floor.ms);
  }
  const perTenK = (ms) => (ms * 10_000) / events;
  const sealed = median(samples.sealed);
  const live = median(samples.live);
  const floor = median(samples.floor);
  return {
    events,
    chunks,
    seedAndSealMs: seed.ms,
    sealedMs: sealed,
    liveMs: live,
    floorMs: floor,
    per10k: { sealed: perTenK(sealed), live: perTenK(live), floor: perTenK(floor) },
    ratioToLive: sealed / live,
    ratioToFloor: sealed / floor,
  };
}

export function formatAudit(result) {
  const ms = (value) => `${value.toFixed(1)} ms`;
  return [
    `audit verification: ${result.events.toLocaleString("en")} events in ${result.chunks} sealed chunks (written and sealed in ${ms(result.seedAndSealMs)})`,
    `  (a) sealed (D1 seals, R2 chunks, live compare)  ${ms(result.sealedMs)}  = ${ms(result.per10k.sealed)} per 10k events`,
    `  (b) live chain only (verifyAudit)              ${ms(result.liveMs)}  = ${ms(result.per10k.live)} per 10k events`,
    `  (c) WebCrypto SHA-256 alone, same inputs       ${ms(result.floorMs)}  = ${ms(result.per10k.floor)} per 10k events`,
    `  (a)/(b) ${result.ratioToLive.toFixed(2)}x, (a)/(c) ${result.ratioToFloor.toFixed(2)}x; target (a) <= ${AUDIT_TARGET_RATIO}x (b): ${result.ratioToLive <= AUDIT_TARGET_RATIO ? "met" : "MISSED"}`,
  ].join("\n");
}
