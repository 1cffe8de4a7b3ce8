// The Upload page of the web app in Chromium: the synthetic Health Connect samples sent through
// the file input and by dragging onto the drop zone, each followed until the ingest job completes
// with the counts the API reports; a non-Avro file refused with the server's reason; the history
// listing them; axe on the welcome and upload pages; a phone-width layout without sideways scroll.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type AppPage, closeApp, openApp, signUp, waitForHeading } from "./app-page";
import { expectAccessible } from "./axe";
import { useDevServerAndBrowser } from "./harness";

const harness = useDevServerAndBrowser();

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SAMPLES = resolve(ROOT, "../shared/data/health-connect/samples");
const FILES = readdirSync(SAMPLES)
  .filter((name) => name.endsWith(".avro"))
  .sort();
/** Observations and sessions each sample yields (test/worker/ingest.test.ts reads the same files). */
const STORED: Record<string, number> = {
  ActiveCaloriesBurned: 1,
  BloodGlucose: 12,
  HeartRate: 15,
  HeartRateVariabilityRmssd: 6,
  SleepSession: 1,
  Steps: 1,
};

interface ApiUpload {
  id: string;
  status: string;
  fileName: string | null;
  recordCount: number;
  counts: { accepted: number; duplicate: number; flagged: number; rejected: number };
}

/** The last answer of GET /v1/uploads/{id} per file name, as the page received it. */
function recordUploadAnswers(page: Page): Map<string, ApiUpload> {
  const answers = new Map<string, ApiUpload>();
  page.on("response", async (response) => {
    if (!/\/v1\/uploads\/upl_[a-z2-7]{26}$/.test(response.url()) || response.status() !== 200) return;
    const upload = (await response.json()) as ApiUpload;
    if (upload.fileName !== null) answers.set(upload.fileName, upload);
  });
  return answers;
}

async function openUploadPage(app: AppPage): Promise<void> {
  await app.page.getByRole("link", { name: "Upload", exact: true }).click();
  await waitForHeading(app.page, "Upload");
}

/** Waits until the file's line says it is done (or refused) and returns what it says. */
async function finalState(page: Page, fileName: string): Promise<string> {
  const item = page.locator("li.upload-item", { has: page.getByText(fileName, { exact: true }) });
  const state = item.locator(".upload-state.is-ok, .upload-state.is-bad");
  await state.waitFor({ state: "visible", timeout: 45_000 });
  return (await state.textContent()) ?? "";
}

/** The counts the file's line shows, by their label. */
async function shownCounts(page: Page, fileName: string): Promise<Record<string, number>> {
  const item = page.locator("li.upload-item", { has: page.getByText(fileName, { exact: true }) });
  const labels = await item.locator(".upload-counts dt").allTextContents();
  const values = await item.locator(".upload-counts dd").allTextContents();
  return Object.fromEntries(labels.map((label, i) => [label, Number(values[i])]));
}

describe("uploading Health Connect files in the web app", () => {
  it("sends the samples through the file input, each completing with the API's counts, and lists them", async () => {
    const app = await openApp(harness());
    const { page } = app;
    try {
      await signUp(app);
      const answers = recordUploadAnswers(page);
      await openUploadPage(app);
      expect(await page.getByText("No uploads yet.").isVisible()).toBe(true);

      await page.getByLabel("Health Connect exports (.avro)").setInputFiles(FILES.map((name) => join(SAMPLES, name)));
      for (const name of FILES) {
        expect(await finalState(page, name), name).toBe("Completed");
        const answer = answers.get(name);
        expect(answer?.status, name).toBe("completed");
        const type = name.replace(/Record_\d+\.avro$/, "");
        expect(answer?.counts.accepted, name).toBe(STORED[type]);
        expect(await shownCounts(page, name), name).toEqual({
          "Records in the file": answer?.recordCount,
          Stored: answer?.counts.accepted,
          "Already stored": answer?.counts.duplicate,
          "Flagged out of range": answer?.counts.flagged,
          Rejected: answer?.counts.rejected,
        });
      }

      // The history table: one row per file, completed, with the stored count in its column.
      const history = page.getByRole("table", { name: "Upload history, newest first" });
      for (const name of FILES) {
        const row = history.getByRole("row").filter({ has: page.getByRole("rowheader", { name, exact: true }) });
        // The history reloads after each upload finishes: wait for the last reload to show it.
        await row.getByRole("cell", { name: "Completed", exact: true }).waitFor({ timeout: 15_000 });
        const cells = await row.getByRole("cell").allTextContents();
        const type = name.replace(/Record_\d+\.avro$/, "");
        expect(cells[3], name).toBe(String(STORED[type]));
      }
      expect(await page.getByText("No uploads yet.").isVisible()).toBe(false);
      await expectAccessible(page, "the upload page with its history");
      expect(app.problems).toEqual([]);
    } finally {
      await closeApp(app);
    }
  });

  it("refuses a non-Avro file with the server's reason and a wrongly named one before sending", async () => {
    const app = await openApp(harness());
    const { page } = app;
    try {
      await signUp(app);
      await openUploadPage(app);
      const input = page.getByLabel("Health Connect exports (.avro)");
      await input.setInputFiles({
        name: "notes.avro",
        mimeType: "application/octet-stream",
        buffer: Buffer.from("not an export"),
      });
      expect(await finalState(page, "notes.avro")).toMatch(
        /^Refused: The file is not an Avro object container file \(Health Connect export\)/,
      );
      await input.setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
      expect(await finalState(page, "notes.txt")).toBe("Not sent: only Health Connect exports (.avro files) can be uploaded.");
      // The refusal is the one failed request (and Chromium's console line about it); nothing else went wrong.
      expect(app.problems).toEqual([
        `HTTP 415: ${app.origin}/v1/uploads`,
        "console: Failed to load resource: the server responded with a status of 415 (Unsupported Media Type)",
      ]);
    } finally {
      await closeApp(app);
    }
  });

  it("takes a file dragged onto the drop zone on a phone-wide screen, and says when it was sent before", async () => {
    const app = await openApp(harness(), { viewport: { width: 375, height: 800 } });
    const { page } = app;
    try {
      await expectAccessible(page, "the welcome page");
      await signUp(app);
      await openUploadPage(app);
      const name = FILES.find((file) => file.startsWith("HeartRateRecord")) ?? "HeartRateRecord.avro";
      const base64 = readFileSync(join(SAMPLES, name)).toString("base64");
      const zone = page.getByRole("region", { name: "Add Health Connect files" });
      const drop = async () => {
        const dataTransfer = await page.evaluateHandle(
          ([bytes, fileName]) => {
            const transfer = new DataTransfer();
            const data = Uint8Array.from(atob(bytes), (char) => char.charCodeAt(0));
            transfer.items.add(new File([data], fileName, { type: "application/octet-stream" }));
            return transfer;
          },
          [base64, name] as const,
        );
        await zone.dispatchEvent("dragenter", { dataTransfer });
        await zone.dispatchEvent("dragover", { dataTransfer });
        await zone.dispatchEvent("drop", { dataTransfer });
      };
      await drop();
      expect(await finalState(page, name)).toBe("Completed");
      expect((await shownCounts(page, name)).Stored).toBe(STORED.HeartRate);

      // The same bytes again: the server answers with the first upload; nothing is stored twice.
      await drop();
      await page.getByText("Completed (sent before)").waitFor({ timeout: 45_000 });

      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBe(0);
      await expectAccessible(page, "the upload page at 375 px");
      expect(app.problems).toEqual([]);
    } finally {
      await closeApp(app);
    }
  });
});
