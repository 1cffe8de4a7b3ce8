// The web part of the bench (docs/benchmarks.md "Web app"): what the web app costs a browser, in
// headless Chromium against the bench Worker (which serves /app and its files from the ASSETS
// binding, as in production), in the same run:
//
//  weight  JS + CSS, gzipped here at the default level, per page: /app as first loaded (the
//          sign-in page), what the dashboard adds (its chunk: the view and uPlot), /docs when the
//          Worker serves it. Counted from the responses the page received, so only what a browser
//          really fetched is weighed.
//  first chart  a month of minute heart rate (44,640 samples, January 2025) seeded into a new
//          account's store (./fhir-year.ts): from the hash navigation to the dashboard (a reload
//          signs out by design: tokens live in the page's memory) until the heart-rate chart has
//          been drawn (its figure's `data-drawn`, set by uPlot's draw hook), for the month (daily
//          buckets), week (hourly buckets) and day (raw minutes) views; against the reference, the
//          same API reads alone — the very /v1/observations and /v1/sleep requests the dashboard
//          made, fetched again in parallel from the same page, bodies parsed. Runs alternate.
import { gzipSync } from "node:zlib";
import { pageWithAuthenticator, signUpInApp } from "../scripts/app-browser.mjs";
import { launchChromium } from "../test/browser/chromium.ts";
import { BenchApiError, check } from "./api.mjs";
import { formatBytes, latencySummary } from "./report.mjs";

export const WEB_WEIGHT_TARGET_BYTES = 150 * 1024;
export const FIRST_CHART_TARGET_MS = 1000;
const END = "2025-01-31";
const VIEWS = [
  { label: "month (daily means)", hash: `#/dashboard?range=month&end=${END}`, resolution: "daily means" },
  { label: "week (hourly means)", hash: `#/dashboard?range=week&end=${END}`, resolution: "hourly means" },
  { label: "day (every minute)", hash: `#/dashboard?range=day&end=${END}`, resolution: "every reading" },
];

/** Records every JS and CSS response of the page: url → gzipped bytes. */
function weigh(page) {
  const files = new Map();
  page.on("response", async (response) => {
    const type = response.headers()["content-type"] ?? "";
    if (!/javascript|text\/css/.test(type)) return;
    try {
      files.set(response.url(), gzipSync(await response.body()).length);
    } catch {
      // A response whose body the page never read (a redirect) weighs nothing.
    }
  });
  return files;
}

const total = (files, urls) => urls.reduce((sum, url) => sum + (files.get(url) ?? 0), 0);

/** Hash navigation to `hash`; milliseconds until the heart-rate chart has been drawn. */
function timeFirstChart(page, hash) {
  return page.evaluate(
    (target) =>
      new Promise((resolve, reject) => {
        const drawn = () => document.querySelector('[data-chart="heart_rate"][data-drawn="true"]');
        const started = performance.now();
        const observer = new MutationObserver(() => {
          if (drawn() === null) return;
          observer.disconnect();
          resolve(performance.now() - started);
        });
        observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-drawn"] });
        setTimeout(() => reject(new Error(`no heart-rate chart within 30 s of ${target}`)), 30_000);
        location.hash = target;
      }),
    hash,
  );
}

/** The same reads alone: `urls` fetched in parallel from the page with the app's token, bodies parsed. */
function timeReads(page, urls, token) {
  return page.evaluate(
    async ({ urls, token }) => {
      const started = performance.now();
      await Promise.all(
        urls.map(async (url) => {
          const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
          if (!res.ok) throw new Error(`${url} answered ${res.status}`);
          await res.json();
        }),
      );
      return performance.now() - started;
    },
    { urls, token },
  );
}

/** Until the view has no read in flight (the shell marks <main> busy while any runs). */
function settled(page) {
  return page.waitForFunction(() => document.querySelector("main")?.getAttribute("aria-busy") === "false");
}

async function leave(page) {
  await page.evaluate(() => {
    location.hash = "#/ask";
  });
  await page.getByRole("heading", { level: 1, name: "Ask about your data" }).waitFor({ state: "visible" });
}

export async function benchWeb({ baseUrl, runs = 10, step = () => {} }) {
  const origin = new URL(baseUrl).origin.replace("127.0.0.1", "localhost");
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, cdp } = await pageWithAuthenticator(context);
    const files = weigh(page);
    const timezoneId = "Europe/Paris";
    await cdp.send("Emulation.setTimezoneOverride", { timezoneId });

    step("web: /app in Chromium, weighing its JS and CSS; a passkey sign-up");
    const loaded = await page.goto(`${origin}/app`);
    check(loaded?.status() === 200, `GET /app answered ${loaded?.status()}: is the web app built (npm run build:web)?`);
    await page.getByRole("form", { name: "Create an account" }).waitFor({ state: "visible" });
    const initial = [...files.keys()];
    const token = await signUpInApp(page, { username: `bench-${Date.now().toString(36)}`, displayName: "Bench" });
    await page.waitForLoadState("networkidle");
    const dashboard = [...files.keys()].filter((url) => !initial.includes(url));

    step("web: seeding January 2025 of minute heart rate (44,640 samples) into the account's store");
    const seeded = await fetch(`${origin}/__bench/fhir/seed?month=0`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!seeded.ok) throw new BenchApiError(`POST /__bench/fhir/seed answered ${seeded.status}`);
    const { heartRate } = await seeded.json();

    const views = [];
    for (const view of VIEWS) {
      step(`web: ${view.label}: ${runs} navigations to the first chart, each followed by its reads alone`);
      const reads = [];
      const record = (request) => {
        if (/\/v1\/(observations|sleep)\?/.test(request.url())) reads.push(request.url());
      };
      // One warm-up of each, which also records the reads the view makes.
      await leave(page);
      page.on("request", record);
      await timeFirstChart(page, view.hash);
      await settled(page);
      page.off("request", record);
      const lead = await page.locator("#range-text").textContent();
      check(lead?.includes(view.resolution), `the ${view.label} view shows "${lead}"`);
      const points = Number(await page.locator('[data-chart="heart_rate"]').getAttribute("data-points"));
      await timeReads(page, reads, token);
      const chart = [];
      const api = [];
      for (let i = 0; i < runs; i++) {
        await leave(page);
        chart.push(await timeFirstChart(page, view.hash));
        // The summary and narrative reads that follow the chart finish before the reference starts.
        await settled(page);
        api.push(await timeReads(page, reads, token));
      }
      views.push({ label: view.label, points, requests: reads.length, chart: latencySummary(chart), api: latencySummary(api) });
    }

    let docs = null;
    const docsPage = await context.newPage();
    const docsFiles = weigh(docsPage);
    const docsResponse = await docsPage.goto(`${origin}/docs`);
    if (docsResponse?.status() === 200) {
      await docsPage.waitForLoadState("networkidle");
      docs = { bytes: total(docsFiles, [...docsFiles.keys()]), files: docsFiles.size };
    }
    await context.close();
    return {
      weight: {
        app: { bytes: total(files, initial), files: initial.length },
        dashboard: { bytes: total(files, dashboard), files: dashboard.length },
        docs,
      },
      heartRate,
      timezoneId,
      runs,
      views,
    };
  } finally {
    await browser.close();
  }
}

export function webMissed(r) {
  const month = r.views[0];
  return !(r.weight.app.bytes + r.weight.dashboard.bytes < WEB_WEIGHT_TARGET_BYTES && month.chart.p50 < FIRST_CHART_TARGET_MS);
}

export function formatWeb(r) {
  const dashboardTotal = r.weight.app.bytes + r.weight.dashboard.bytes;
  const row = (label, s) =>
    `    ${label.padEnd(34)} p50 ${s.p50.toFixed(1).padStart(7)} ms  p90 ${s.p90.toFixed(1).padStart(7)} ms  max ${s.max.toFixed(1).padStart(7)} ms`;
  const month = r.views[0];
  return [
    "Web app (headless Chromium against the bench Worker; JS + CSS gzipped as received)",
    `  /app (sign-in page):            ${formatBytes(r.weight.app.bytes)} in ${r.weight.app.files} files`,
    `  + dashboard (view and uPlot):   ${formatBytes(r.weight.dashboard.bytes)} in ${r.weight.dashboard.files} files` +
      ` → dashboard page ${formatBytes(dashboardTotal)}  target < ${formatBytes(WEB_WEIGHT_TARGET_BYTES)}: ${dashboardTotal < WEB_WEIGHT_TARGET_BYTES ? "meets" : "MISSES"}`,
    r.weight.docs === null
      ? "  /docs: not served"
      : `  /docs (API reference):          ${formatBytes(r.weight.docs.bytes)} in ${r.weight.docs.files} files`,
    `  first heart-rate chart, ${r.heartRate.toLocaleString("en")} minute samples in the store, ${r.timezoneId}, ${r.runs} runs each:`,
    ...r.views.flatMap((view) => [
      `  ${view.label}: ${view.points} points plotted, ${view.requests} reads`,
      row("navigation → chart drawn", view.chart),
      row("the same reads alone", view.api),
      `    ratio (p50): ${(view.chart.p50 / view.api.p50).toFixed(2)}x the reads alone`,
    ]),
    `  month view p50 ${month.chart.p50.toFixed(0)} ms (${month.chart.p50 < FIRST_CHART_TARGET_MS ? "meets" : "MISSES"} the < ${FIRST_CHART_TARGET_MS} ms target)`,
  ].join("\n");
}
