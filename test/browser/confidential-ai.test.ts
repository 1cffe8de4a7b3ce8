// The "done when", as a person does it: `npm run dev` (which starts the local enclave-bridge
// beside the Worker), sign up (with `npm run dev:signup`, or with a passkey in the web app in
// Chromium), upload two weeks of exports with `npm run upload`, and ask "what was my average resting
// heart rate last week?" (over HTTP, or on the web app's Ask page). The answer is computed inside the simulated enclave; the
// test recomputes it from the generated records and checks that no process of the dev server printed
// the question or the answer.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoRecords } from "../../scripts/demo-data.mjs";
import { openAppWithoutAutofill, signUpKeepingTokens, visibleText } from "./account-page";
import { closeApp, waitForHeading } from "./app-page";
import { useDevServerAndBrowser } from "./harness";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "node_modules/.bin");
const NODE = join(BIN, "node");
const ENV = { ...process.env, PATH: `${BIN}${delimiter}${process.env.PATH ?? ""}` };
const QUESTION = "What was my average resting heart rate last week?";
const DAYS = 14;

interface Answer {
  answer: string;
  usedMetrics: string[];
  figures: { label: string; value: number; unit: string }[];
  period: { since: string; until: string };
  attestation: { pcr0: string; verifiedAt: string };
}

const harness = useDevServerAndBrowser();

/** The resting heart rates the demo export holds in [since, until), averaged as the answer rounds it. */
function expectedAverage(end: number, since: number, until: number): number {
  const week = demoRecords({ days: DAYS, end })
    .RestingHeartRate.filter((record) => record.timeEpochMillis >= since && record.timeEpochMillis < until)
    .map((record) => record.beatsPerMinute);
  expect(week.length).toBeGreaterThanOrEqual(6);
  return Math.round((week.reduce((sum, value) => sum + value, 0) / week.length) * 10) / 10;
}

describe("confidential AI on npm run dev", () => {
  let token = "";
  let base = "";
  let files: string[] = [];
  const end = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), "pulse-ai-demo-"));
  const upload = (accessToken: string) =>
    run(NODE, ["scripts/upload.mjs", "--url", base, "--token", accessToken, ...files], { cwd: ROOT, env: ENV });

  beforeAll(async () => {
    // Passkeys are bound to the RP ID `localhost`, so the browser-facing origin is localhost.
    base = harness().server.url.replace("127.0.0.1", "localhost");
    const signup = await run(NODE, ["scripts/dev-signup.mjs", "--url", base], { cwd: ROOT, env: ENV });
    token = /export PULSE_TOKEN="([^"]+)"/.exec(signup.stdout)?.[1] ?? "";
    const written = await run(
      NODE,
      [
        "scripts/demo-data.mjs",
        "--days",
        String(DAYS),
        "--end",
        String(end),
        "--out",
        dataDir,
        // What the questions below read; every type would cost a minute of upload quota.
        "--only",
        "RestingHeartRate,HeartRate,Steps,SleepSession,BloodGlucose",
      ],
      {
        cwd: ROOT,
        env: ENV,
      },
    );
    files = written.stdout.trim().split("\n");
    await upload(token);
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function ask(body: unknown): Promise<Response> {
    return fetch(`${base}/v1/ai/query`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  it("answers the average resting heart rate of last week, computed inside the attested enclave", async () => {
    const res = await ask({ question: QUESTION });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Answer;

    const since = Date.parse(body.period.since);
    const until = Date.parse(body.period.until);
    expect(until - since).toBe(7 * 86_400_000);
    const expected = expectedAverage(end, since, until);

    expect(body.answer).toContain(`${expected.toFixed(1)} bpm`);
    expect(body.figures).toContainEqual({ label: "average resting heart rate", value: expected, unit: "bpm" });
    expect(body.usedMetrics).toEqual(["resting_heart_rate"]);
    expect(body.attestation.pcr0).toMatch(/^[0-9a-f]{96}$/);

    const attestation = await fetch(`${base}/v1/ai/attestation`, { headers: { Authorization: `Bearer ${token}` } });
    expect(attestation.status).toBe(200);
    const report = (await attestation.json()) as { verified: { pcrs: Record<string, string>; debugMode: boolean } };
    expect(report.verified.pcrs["0"]).toBe(body.attestation.pcr0);
    expect(report.verified.debugMode).toBe(false);
  });

  it("prints neither the question nor the answer in any process's output", async () => {
    const question = "How many steps did I take yesterday?";
    const res = await ask({ question });
    expect(res.status).toBe(200);
    const { answer } = (await res.json()) as Answer;
    expect(answer).toMatch(/steps/);
    // Output reaches the pipe asynchronously; give the access-log lines a moment.
    await new Promise((done) => setTimeout(done, 500));
    const output = harness().server.output();
    expect(output).toContain('"route":"/v1/ai/query"');
    expect(output).toContain('"event":"enclave.request"');
    for (const text of [QUESTION, question, answer, "resting heart rate", "steps did I"]) expect(output).not.toContain(text);
  });

  it("answers on the web app's Ask page for a person signed in with a passkey in Chromium", async () => {
    const app = await openAppWithoutAutofill(harness());
    const { page, problems } = app;
    try {
      const { accessToken } = await signUpKeepingTokens(app);
      await upload(accessToken);

      await page.getByRole("link", { name: "Ask" }).click();
      await waitForHeading(page, "Ask about your data");
      await page.getByLabel("Question").fill(QUESTION);
      const asked = page.waitForResponse((r) => r.url().endsWith("/v1/ai/query"));
      await page.getByRole("button", { name: "Ask", exact: true }).click();
      const body = (await (await asked).json()) as Answer;
      // The Ask page also holds the enclave check's section, hidden until asked for: the answer is the
      // region a person finds by its heading.
      const answer = page.getByRole("region", { name: "Answer" });
      await answer.waitFor({ state: "visible" });
      const expected = expectedAverage(end, Date.parse(body.period.since), Date.parse(body.period.until));
      const shown = await visibleText(answer);
      expect(shown).toContain(`${expected.toFixed(1)} bpm`);
      expect(shown).toContain(body.attestation.pcr0);
      expect(shown).toMatch(/Data used\s+resting heart rate/);

      // Signing out clears the answer from the page.
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("form", { name: "Sign in" }).waitFor({ state: "visible" });
      expect(await page.getByText(`${expected.toFixed(1)} bpm`).count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await closeApp(app);
    }
  });
});
