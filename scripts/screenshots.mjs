#!/usr/bin/env node
// `npm run screenshots`: the dashboard with two weeks of demo data, photographed in Chromium at a
// desktop (1280 px) and a phone (375 px) width into docs/dashboard-desktop.png and
// docs/dashboard-phone.png. It runs what a person runs: `npm run dev` on a free port with fresh
// state (the browser tests' dev server), a passkey sign-up in the page (a CDP virtual
// authenticator), `npm run -s dev:demo-data` and `npm run upload` with the page's own token.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { launchChromium } from "../test/browser/chromium.ts";
import { startDevServer } from "../test/browser/dev-server.ts";
import { pageWithAuthenticator, signUpInApp } from "./app-browser.mjs";

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules/.bin");
const ENV = { ...process.env, PATH: `${BIN}${delimiter}${process.env.PATH ?? ""}` };
// The demo exports are written at +02:00 (bench/export-files.mjs); Paris keeps their days whole.
const ZONE = "Europe/Paris";
// Ten record types: the upload quota (10 files a minute) takes them without a wait.
const TYPES =
  "HeartRate,RestingHeartRate,Steps,SleepSession,BloodGlucose,HeartRateVariabilityRmssd,OxygenSaturation,BloodPressure,Weight,ActiveCaloriesBurned";

const step = (text) => console.log(`· ${text}`);

async function showWeek(page, end) {
  await page.evaluate((hash) => {
    location.hash = hash;
  }, `#/dashboard?range=week&end=${end}`);
  await page.locator('[data-chart="heart_rate"][data-drawn="true"]').waitFor({ state: "visible" });
  await page.locator(".dashboard-side .stats").waitFor({ state: "visible" });
  await page.waitForFunction(() => document.querySelector("main")?.getAttribute("aria-busy") === "false");
  await page.locator("h1").evaluate((heading) => heading.blur());
}

async function main() {
  step("starting npm run dev (fresh state)");
  const server = await startDevServer();
  const dataDir = mkdtempSync(join(tmpdir(), "pulse-screenshots-"));
  let browser;
  try {
    const origin = server.url.replace("127.0.0.1", "localhost");
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "light", locale: "en-GB" });
    const { page, cdp } = await pageWithAuthenticator(context);
    await cdp.send("Emulation.setTimezoneOverride", { timezoneId: ZONE });
    await page.goto(`${origin}/app`);
    step("signing up with a passkey");
    const token = await signUpInApp(page, { username: `demo-${Date.now().toString(36)}`, displayName: "Ada Lovelace" });

    step("writing and uploading 14 days of demo data");
    const end = Date.now();
    const written = await run(
      join(BIN, "node"),
      ["scripts/demo-data.mjs", "--days", "14", "--end", String(end), "--out", dataDir, "--only", TYPES],
      {
        cwd: ROOT,
        env: ENV,
      },
    );
    await run(
      join(BIN, "node"),
      ["scripts/upload.mjs", "--url", origin, "--token", token, ...written.stdout.trim().split("\n")],
      {
        cwd: ROOT,
        env: ENV,
      },
    );

    // The demo data ends at today's UTC midnight: the last whole week is the one ending yesterday.
    const yesterday = new Date(end - 86_400_000).toISOString().slice(0, 10);
    await showWeek(page, yesterday);
    const desktop = join(ROOT, "docs/dashboard-desktop.png");
    await page.screenshot({ path: desktop, fullPage: true });
    step(`wrote ${desktop}`);

    await page.setViewportSize({ width: 375, height: 812 });
    await showWeek(page, yesterday);
    await page.waitForFunction(() => (document.querySelector('[data-chart="heart_rate"] canvas')?.clientWidth ?? 999) < 375);
    const phone = join(ROOT, "docs/dashboard-phone.png");
    // The first screens of a phone: the period, the day's summary and the first charts.
    await page.screenshot({ path: phone, fullPage: true, clip: { x: 0, y: 0, width: 375, height: 2000 } });
    step(`wrote ${phone}`);
  } finally {
    await browser?.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
