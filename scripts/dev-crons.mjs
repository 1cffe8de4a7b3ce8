// Cron triggers for `npm run dev`. `wrangler dev` never fires a Worker's cron triggers on its own,
// so nothing scheduled (the stalled-upload sweeper, retention) would ever run locally. This fires
// each cron of wrangler.toml [triggers] on its schedule, in UTC as Cloudflare does, by asking the
// local runtime to dispatch the scheduled event.
//
// The endpoint is Miniflare's `/cdn-cgi/local/scheduled` (the one wrangler 4 prints when a Worker
// with crons starts in dev): it is served by Miniflare's own entry worker in front of Pulse, never
// by Pulse's code, so it does not exist in production. Unlike `/__scheduled` (a middleware that
// `wrangler dev --test-scheduled` bundles into the Worker), it passes the tick as `scheduledTime`
// and reports the handler's outcome.
import { Cron } from "croner";

/**
 * The Worker's cron triggers, as wrangler itself reads wrangler.toml.
 * @param {string} configPath
 * @returns {Promise<string[]>}
 */
export async function readCrons(configPath) {
  const { unstable_readConfig } = await import("wrangler");
  const config = /** @type {{ triggers?: { crons?: string[] } }} */ (
    unstable_readConfig({ config: configPath }, { hideWarnings: true })
  );
  return config.triggers?.crons ?? [];
}

/**
 * Dispatches one scheduled event to the dev server.
 * @param {string} origin e.g. http://127.0.0.1:8787
 * @param {string} cron
 * @param {number} time the scheduled time, epoch milliseconds
 * @returns {Promise<{ status: number, outcome: string }>}
 */
export async function fireCron(origin, cron, time) {
  const url = new URL("/cdn-cgi/local/scheduled", origin);
  url.searchParams.set("cron", cron);
  url.searchParams.set("time", String(time));
  url.searchParams.set("format", "json");
  const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  const text = await res.text();
  /** @type {unknown} */
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not Miniflare's JSON: report the status alone.
  }
  const outcome =
    typeof body === "object" && body !== null && "outcome" in body && typeof body.outcome === "string"
      ? body.outcome
      : `HTTP ${res.status}`;
  return { status: res.status, outcome };
}

/**
 * Fires every cron on its schedule until `stop()`. A run still going when its next tick comes is
 * not started twice (croner's `protect`).
 * @param {{ origin: string, crons: string[], log?: (line: string) => void }} options
 * @returns {{ stop(): void, nextRuns(): (Date | null)[] }}
 */
export function startCronTriggers({ origin, crons, log = console.log }) {
  const jobs = crons.map(
    (cron) =>
      new Cron(cron, { timezone: "UTC", protect: true }, async () => {
        // Cloudflare's scheduledTime is the tick, not the moment the event is delivered.
        const tick = Math.floor(Date.now() / 1000) * 1000;
        try {
          const { outcome } = await fireCron(origin, cron, tick);
          log(`[cron] "${cron}" fired: ${outcome}`);
        } catch (error) {
          log(`[cron] "${cron}" could not reach the dev server: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
  );
  return {
    stop: () => {
      for (const job of jobs) job.stop();
    },
    nextRuns: () => jobs.map((job) => job.nextRun()),
  };
}
