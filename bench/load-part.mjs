// The `load` part of `npm run bench` (issue: cost per user flat with N): a small fixed run of the
// load harness (./population.mjs) at N = 10 and N = 50 people against the same workerd, after a
// warm-up crowd that is not measured, and the per-person workerd CPU and D1 writes of N = 50
// against N = 10. Flat is the goal; the target is within 1.5x.
import { formatPopulation, runPopulation } from "./population.mjs";

export const LOAD_TARGET_RATIO = 1.5;
const SMALL = 10;
const LARGE = 50;
const WARMUP = 5;
/** Faster pacing than `npm run load`'s default: the part should take about a minute. */
const PACING = { thinkMs: 100, arrivalRate: 5, maxActive: 20, timeLimitMs: 180_000 };

export async function benchLoad({ baseUrl, cpuMeter, step = () => {} }) {
  step(`load: ${WARMUP} people to warm up (not measured)`);
  await runPopulation({ baseUrl, users: WARMUP, seed: 99, ...PACING, step });
  step(`load: ${SMALL} people`);
  const small = await runPopulation({ baseUrl, users: SMALL, seed: 1, ...PACING, cpuMeter, step });
  step(`load: ${LARGE} people`);
  const large = await runPopulation({ baseUrl, users: LARGE, seed: 2, ...PACING, cpuMeter, step });
  const ratios = {
    cpuMsPerUser: large.cpuMsPerUser / small.cpuMsPerUser,
    d1WritesPerUserDay: large.perUserDay.d1Writes / small.perUserDay.d1Writes,
  };
  const { counters: _small, ...smallFigures } = small;
  const { counters: _large, ...largeFigures } = large;
  return { small: smallFigures, large: largeFigures, ratios };
}

const within = (ratio) => Number.isFinite(ratio) && ratio <= LOAD_TARGET_RATIO;

export function loadMissed(r) {
  return !within(r.ratios.cpuMsPerUser) || !within(r.ratios.d1WritesPerUserDay);
}

export function formatLoad(r) {
  const verdict = (ratio) => (within(ratio) ? "meets" : "MISSES");
  const row = (label, key, pick) =>
    `  ${label.padEnd(26)} N=${SMALL} ${pick(r.small).toFixed(1).padStart(8)}   N=${LARGE} ${pick(r.large).toFixed(1).padStart(8)}   ` +
    `ratio ${r.ratios[key].toFixed(2)}x (${verdict(r.ratios[key])} the <= ${LOAD_TARGET_RATIO}x target)`;
  return [
    `Load: cost per person at N=${LARGE} against N=${SMALL}, same workerd (a day of data each: upload, ingest, reads, refresh)`,
    row("workerd CPU ms per person", "cpuMsPerUser", (x) => x.cpuMsPerUser),
    row("D1 writes per user-day", "d1WritesPerUserDay", (x) => x.perUserDay.d1Writes),
    "",
    formatPopulation(r.small),
    "",
    formatPopulation(r.large),
  ].join("\n");
}
