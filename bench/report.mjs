// Turns raw samples into the figures the bench prints: throughput, latency percentiles, ratios
// against the bare route measured in the same run (DESIGN §10), and the bundle-size verdict.

/** Nearest-rank percentile of an ascending-sorted array. */
function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** count, p50/p90/p99 and max of one series of latencies (any order). */
export function latencySummary(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Merges the rounds of one route. Throughput is the median round, so one round slowed by a
 * neighbour on the shared cores does not move the ratios; percentiles pool every sample.
 */
export function summarize(rounds) {
  const latencies = Float64Array.from(rounds.flatMap((round) => round.latencies)).sort();
  const perRound = rounds.map((round) => round.completed / (round.elapsedMs / 1000));
  const requests = rounds.reduce((sum, round) => sum + round.completed, 0);
  const cpuMs = rounds.every((round) => round.cpuMs !== undefined)
    ? rounds.reduce((sum, round) => sum + round.cpuMs, 0)
    : Number.NaN;
  return {
    requests,
    /** workerd CPU (user + system) per request, pooled over the rounds. */
    cpuMsPerRequest: cpuMs / requests,
    rps: median(perRound),
    rpsMin: Math.min(...perRound),
    rpsMax: Math.max(...perRound),
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
  };
}

/**
 * How much more a request costs than the bare route. With a fixed number of requests in flight,
 * throughput ratio = mean latency ratio (Little's law), so `cost` is the headline figure; the p50
 * ratio is shown beside it because means hide tails.
 */
export function ratios(route, bare) {
  return {
    cost: bare.rps / route.rps,
    p50: route.p50 / bare.p50,
    addedP50Ms: route.p50 - bare.p50,
    cpu: route.cpuMsPerRequest / bare.cpuMsPerRequest,
  };
}

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

function table(header, rows) {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function formatResults(routes) {
  const header = ["route", "req/s (median)", "rounds min-max", "p50 ms", "p90 ms", "p99 ms", "workerd CPU us/req", "requests"];
  const rows = routes.map(({ id, label, summary }) => [
    `${id} ${label}`,
    fixed(summary.rps, 0),
    `${fixed(summary.rpsMin, 0)}-${fixed(summary.rpsMax, 0)}`,
    fixed(summary.p50, 2),
    fixed(summary.p90, 2),
    fixed(summary.p99, 2),
    fixed(summary.cpuMsPerRequest * 1000, 0),
    String(summary.requests),
  ]);
  return table(header, rows);
}

/** One line per route against the bare one: throughput cost, p50 and workerd CPU ratios. */
export function formatRatio({ id, label }, ratio) {
  const figures = [
    `${fixed(ratio.cost, 2)}x throughput cost`,
    `${fixed(ratio.p50, 2)}x p50 (+${fixed(ratio.addedP50Ms, 2)} ms)`,
    `${fixed(ratio.cpu, 2)}x workerd CPU`,
  ];
  return `${`${id}/(a)`.padEnd(8)} ${label.padEnd(18)} ${figures.join(", ")}`;
}

export const verdict = (met) => (met ? "meets target" : "MISSES target");

export function formatBytes(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
