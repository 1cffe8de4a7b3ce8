// The dashboard in Chromium, as a person sees it: a new account's empty state says how to get data
// in; after a day of heart rate is uploaded (through the API, with the app's own token), the chart's
// data table holds exactly the uploaded samples for a day, their hourly means for a week and their
// daily mean for a month — recomputed here from the uploaded records — and the canvas shows the
// series in its colour across the day. At phone width nothing scrolls sideways.
import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { exportFile, heartRateRecords } from "../../bench/export-files.mjs";
import { type AppPage, closeApp, openApp, signUp, waitForHeading } from "./app-page";
import { useDevServerAndBrowser } from "./harness";

const harness = useDevServerAndBrowser();

// Tokyo: no daylight saving time and nine hours from UTC, so local days and UTC days differ.
const ZONE = "Asia/Tokyo";
const ZONE_MS = 9 * 3_600_000;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

interface Sample {
  timeEpochMillis: number;
  beatsPerMinute: number;
}

/** The access token the app sends (it lives in the page's memory only). */
function watchToken(page: Page): () => string {
  let token = "";
  page.on("request", (request) => {
    const authorization = request.headers().authorization;
    if (authorization?.startsWith("Bearer ")) token = authorization.slice(7);
  });
  return () => {
    if (token === "") throw new Error("the app has sent no authenticated request yet");
    return token;
  };
}

async function uploadHeartRate(origin: string, token: string, start: number): Promise<Sample[]> {
  const records = heartRateRecords({ days: 1, start, sampleSeconds: 300, recordMinutes: 60, seed: 21 }).map((record) => ({
    ...record,
    startZoneOffsetId: "+09:00",
    endZoneOffsetId: "+09:00",
  }));
  const file = await exportFile("HeartRate", records);
  const headers = { Authorization: `Bearer ${token}` };
  const posted = await fetch(`${origin}/v1/uploads`, {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/avro", "Content-Disposition": `attachment; filename="${file.name}"` },
    body: file.bytes,
  });
  expect(posted.status).toBe(202);
  const { uploadId } = (await posted.json()) as { uploadId: string };
  for (let attempt = 0; attempt < 120; attempt++) {
    const upload = (await (await fetch(`${origin}/v1/uploads/${uploadId}`, { headers })).json()) as { status: string };
    if (upload.status === "completed") break;
    expect(upload.status).not.toBe("failed");
    await new Promise((done) => setTimeout(done, 250));
  }
  return records.flatMap((record): Sample[] => record.samples);
}

const format = (value: number) => value.toLocaleString("en-US", { maximumFractionDigits: 1 });
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** The heart-rate chart's table as a person reads it: opened, then every row's heart-rate cell. */
async function tableValues(page: Page): Promise<string[]> {
  const figure = page.locator('[data-chart="heart_rate"]');
  await figure.locator("summary").click();
  // The table is built when the details element opens, on its toggle event, a task after the click.
  await figure.locator("tbody tr").first().waitFor({ state: "visible" });
  const cells = figure.locator("tbody tr td:first-of-type");
  return (await cells.allTextContents()).map((text) => text.trim());
}

/** Waits for a new view showing `resolution` and its drawn heart-rate chart. */
async function waitForChart(page: Page, resolution: string): Promise<void> {
  await page.getByText(new RegExp(`· ${resolution} ·`)).waitFor({ state: "visible" });
  await page.locator('[data-chart="heart_rate"][data-drawn="true"]').waitFor({ state: "visible" });
}

/**
 * Pixels of the heart-rate line's colour on the canvas, and the share of the plot's width they
 * span: read from the drawn bitmap, not from the chart's data.
 */
async function linePixels(page: Page): Promise<{ count: number; span: number }> {
  return page.locator('[data-chart="heart_rate"] canvas').evaluate((canvas: HTMLCanvasElement) => {
    const probe = document.createElement("span");
    probe.style.color = getComputedStyle(canvas).getPropertyValue("--chart-1");
    document.body.append(probe);
    const [r, g, b] = (getComputedStyle(probe).color.match(/\d+/g) ?? []).map(Number);
    probe.remove();
    const context = canvas.getContext("2d");
    if (context === null || r === undefined || g === undefined || b === undefined) return { count: 0, span: 0 };
    const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    let left = width;
    let right = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        const near =
          Math.abs((data[i] ?? 0) - r) + Math.abs((data[i + 1] ?? 0) - g) + Math.abs((data[i + 2] ?? 0) - b) < 40 &&
          (data[i + 3] ?? 0) > 200;
        if (!near) continue;
        count++;
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
    return { count, span: count === 0 ? 0 : (right - left) / width };
  });
}

async function openInTokyo(): Promise<AppPage> {
  const app = await openApp(harness());
  await app.cdp.send("Emulation.setTimezoneOverride", { timezoneId: ZONE });
  return app;
}

describe("the dashboard in Chromium", () => {
  it("tells a new account how to get data in", async () => {
    const app = await openInTokyo();
    const { page } = app;
    try {
      await signUp(app);
      await page.getByRole("heading", { level: 2, name: "No health data yet" }).waitFor({ state: "visible" });
      expect(await page.getByRole("link", { name: "Upload a Health Connect export" }).getAttribute("href")).toBe("#/upload");
      expect(await page.getByRole("link", { name: "Connect a provider" }).getAttribute("href")).toBe("#/connections");
      await expect(page.getByText("npm run -s dev:demo-data").count()).resolves.toBe(1);
      expect(await page.locator("canvas").count()).toBe(0);
      expect(await page.getByText(`· every reading · ${ZONE}`).count()).toBe(1);
      expect(app.problems).toEqual([]);
    } finally {
      await closeApp(app);
    }
  });

  it("charts the uploaded heart rate by day, week and month, and fits a phone", async () => {
    const app = await openInTokyo();
    const { page } = app;
    const token = watchToken(page);
    try {
      await signUp(app);
      await page.getByRole("heading", { level: 2, name: "No health data yet" }).waitFor({ state: "visible" });
      // Yesterday in Tokyo, from its local midnight.
      const todayStart = Math.floor((Date.now() + ZONE_MS) / DAY_MS) * DAY_MS - ZONE_MS;
      const start = todayStart - DAY_MS;
      const samples = await uploadHeartRate(app.origin, token(), start);
      expect(samples).toHaveLength(288);

      // Day: every reading of yesterday, in order.
      await page.getByRole("button", { name: "Earlier" }).click();
      await waitForChart(page, "every reading");
      expect(page.url()).toMatch(/#\/dashboard\?range=day&end=\d{4}-\d{2}-\d{2}$/);
      expect(await page.locator('[data-chart="heart_rate"]').getAttribute("data-points")).toBe("288");
      expect(await tableValues(page)).toEqual(samples.map((sample) => format(sample.beatsPerMinute)));
      const day = await linePixels(page);
      expect(day.count).toBeGreaterThan(200);
      // A sample every five minutes from midnight to 23:55 draws a line across the whole plot.
      expect(day.span).toBeGreaterThan(0.75);
      const summaryText = await page.locator(".dashboard-side").textContent();
      expect(summaryText).toContain(`${Math.round(mean(samples.map((s) => s.beatsPerMinute)))} bpm`);

      // Week: hourly means, the hour buckets of Tokyo's clock.
      await page.getByRole("button", { name: "Week" }).click();
      await waitForChart(page, "hourly means");
      const hours = new Map<number, number[]>();
      for (const sample of samples) {
        const hour = Math.floor(sample.timeEpochMillis / HOUR_MS);
        hours.set(hour, [...(hours.get(hour) ?? []), sample.beatsPerMinute]);
      }
      expect(hours.size).toBe(24);
      expect(await page.locator('[data-chart="heart_rate"]').getAttribute("data-points")).toBe("24");
      expect(await tableValues(page)).toEqual([...hours.values()].map((values) => format(mean(values))));
      expect(await page.getByRole("button", { name: "Week" }).getAttribute("aria-pressed")).toBe("true");
      // The charts, their keys, summaries and the opened data table pass axe's WCAG 2 A/AA rules.
      await page.waitForFunction(() => document.querySelector("main")?.getAttribute("aria-busy") === "false");
      const axe = await new AxeBuilder({ page }).include("main").withTags(["wcag2a", "wcag2aa", "wcag21aa"]).analyze();
      expect(
        axe.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target).join(" ")}`),
      ).toEqual([]);

      // Month: one daily mean.
      await page.getByRole("button", { name: "Month" }).click();
      await waitForChart(page, "daily means");
      expect(await tableValues(page)).toEqual([format(mean(samples.map((sample) => sample.beatsPerMinute)))]);
      expect((await linePixels(page)).count).toBeGreaterThan(0);

      // Back returns to the week, as the address kept it.
      await page.goBack();
      await waitForChart(page, "hourly means");
      await waitForHeading(page, "Dashboard");

      // A phone: the charts shrink to the screen, nothing scrolls sideways.
      await page.setViewportSize({ width: 375, height: 800 });
      await page.waitForFunction(() => (document.querySelector('[data-chart="heart_rate"] canvas')?.clientWidth ?? 999) < 375);
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        canvas: document.querySelector('[data-chart="heart_rate"] canvas')?.getBoundingClientRect().right ?? 999,
      }));
      expect(widths.page).toBeLessThanOrEqual(375);
      expect(widths.canvas).toBeLessThanOrEqual(375);
      expect((await linePixels(page)).count).toBeGreaterThan(100);
      expect(app.problems).toEqual([]);
    } finally {
      await closeApp(app);
    }
  });
});
