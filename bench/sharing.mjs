// A grantee's read against the patient's own read of the same data, in the same run: the 30-day
// hourly heart-rate query of ./query.mjs, as `GET /v1/patients/{id}/observations` by a clinician
// holding a grant of `vitals` (with X-Access-Reason) and as `GET /v1/observations` by the patient.
// What the grantee pays on top is the grant check (active grants, the patient's consent and account,
// one D1 statement) and, once a minute, the grant's last-access write; the store's work and its
// audit event are the same for both.
//
// Data: 30 days of heart rate, a sample every 6 s (432,000 samples), ingested through the real
// path (upload → queue → HealthStore). The grant and consent are written straight into D1 by the
// bench Worker (bench/worker.ts); invitations are not what this measures. Requests alternate one
// by one on keep-alive connections, after a warm-up, so a noisy neighbour hits both alike. The
// first answers are compared: the grantee must see exactly the buckets the patient sees.
import { apiClient, check, signInAs, waitForUploads } from "./api.mjs";
import { EXPORT_START, heartRateExport } from "./export-files.mjs";
import { latencySummary } from "./report.mjs";

export const SHARING_TARGET_RATIO = 1.5;
const DAY_MS = 86_400_000;
const DAYS = 30;
const SAMPLE_SECONDS = 6;
const REASON = "treatment; bench";

export async function benchSharing({ baseUrl, requests = 300, warmup = 30, cpuMeter, profile, step = () => {} }) {
  const since = EXPORT_START;
  const until = EXPORT_START + DAYS * DAY_MS;
  const file = await heartRateExport({ days: DAYS, sampleSeconds: SAMPLE_SECONDS });

  const patientSession = await signInAs(baseUrl, "patient");
  const clinicianSession = await signInAs(baseUrl, "clinician");
  const patient = apiClient(baseUrl, patientSession.accessToken);
  const clinician = apiClient(baseUrl, clinicianSession.accessToken, { "X-Access-Reason": REASON });
  try {
    step(`sharing: ingesting ${DAYS} days of heart rate (${file.records} records) for the patient`);
    const receipt = await patient.upload(file);
    await waitForUploads(patient, [receipt.uploadId], { intervalMs: 100, timeoutMs: 180_000 });
    const granted = await fetch(new URL("/__bench/grant", baseUrl), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ patientId: patientSession.userId, granteeId: clinicianSession.userId, categories: ["vitals"] }),
    });
    check(granted.ok, `POST /__bench/grant answered ${granted.status}`);

    const query = new URLSearchParams({
      metrics: "heart_rate",
      resolution: "hour",
      since: new Date(since).toISOString(),
      until: new Date(until).toISOString(),
    });
    const ownPath = `/v1/observations?${query}`;
    const granteePath = `/v1/patients/${patientSession.userId}/observations?${query}`;
    const own = JSON.parse((await patient.timedGet(ownPath)).body);
    const theirs = JSON.parse((await clinician.timedGet(granteePath)).body);
    check(own.items.length === DAYS * 24, `the patient's read answered ${own.items.length} buckets, expected ${DAYS * 24}`);
    check(JSON.stringify(theirs) === JSON.stringify(own), "the grantee's answer differs from the patient's own");

    step(`sharing: ${warmup} warm-up + ${requests} timed requests of each, alternating`);
    for (let i = 0; i < warmup; i++) {
      await patient.timedGet(ownPath);
      await clinician.timedGet(granteePath);
    }
    const ownMs = [];
    const granteeMs = [];
    for (let i = 0; i < requests; i++) {
      // Which goes first alternates too: neither always follows the other's store work.
      if (i % 2 === 0) {
        ownMs.push((await patient.timedGet(ownPath)).ms);
        granteeMs.push((await clinician.timedGet(granteePath)).ms);
      } else {
        granteeMs.push((await clinician.timedGet(granteePath)).ms);
        ownMs.push((await patient.timedGet(ownPath)).ms);
      }
    }
    const cpuPerRequest = async (client, path) => {
      if (cpuMeter === undefined) return Number.NaN;
      const before = cpuMeter();
      for (let i = 0; i < 100; i++) await client.timedGet(path);
      return (cpuMeter() - before) / 100;
    };
    const cpu = { own: await cpuPerRequest(patient, ownPath), grantee: await cpuPerRequest(clinician, granteePath) };
    let profiled;
    if (profile) {
      step("sharing: 100 more of the clinician's reads under the CPU profiler (not measured)");
      profiled = await profile("sharing", async () => {
        for (let i = 0; i < 100; i++) await clinician.timedGet(granteePath);
      });
    }
    const result = {
      buckets: own.items.length,
      records: file.records,
      own: latencySummary(ownMs),
      grantee: latencySummary(granteeMs),
      cpu,
      profile: profiled?.summary,
    };
    return { ...result, ratio: result.grantee.p50 / result.own.p50 };
  } finally {
    patient.close();
    clinician.close();
  }
}

export function formatSharing(r) {
  const row = (label, s) =>
    `  ${label.padEnd(52)} p50 ${s.p50.toFixed(2).padStart(7)} ms  p90 ${s.p90.toFixed(2).padStart(7)} ms  ` +
    `p99 ${s.p99.toFixed(2).padStart(7)} ms  (${s.count} runs)`;
  const p99 = r.grantee.p99 / r.own.p99;
  return [
    `Sharing (30-day hourly heart rate, ${r.buckets} buckets: a clinician's read through a grant vs the patient's own)`,
    row("GET /v1/observations (the patient)", r.own),
    row("GET /v1/patients/{id}/observations (the clinician)", r.grantee),
    `  p50 ${r.ratio.toFixed(2)}x the patient's own read (${r.ratio <= SHARING_TARGET_RATIO ? "meets" : "MISSES"} the <= ${SHARING_TARGET_RATIO}x target); p99 ${p99.toFixed(2)}x`,
    `  workerd CPU per request (100 of each, apart): patient ${r.cpu.own.toFixed(2)} ms, clinician ${r.cpu.grantee.toFixed(2)} ms`,
    ...(r.profile ? [`  CPU profile of 100 more of the clinician's reads:\n${r.profile.replace(/^/gm, "    ")}`] : []),
  ].join("\n");
}
