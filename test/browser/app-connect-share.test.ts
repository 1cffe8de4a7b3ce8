// The web app's Connections, Sharing, Access log and Ask pages in Chromium, against `npm run dev`
// (which also starts the sandbox provider and the local enclave-bridge): connecting the sandbox from
// the Connections page and seeing its data arrive; a patient sharing with a clinician account, the
// clinician's read showing in the patient's access log by name, and a revoked grant refusing the
// next read; a question answered beside the enclave's attestation facts. Each page is checked with
// axe and at a phone's width.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { promisify } from "node:util";
import AxeBuilder from "@axe-core/playwright";
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type AppPage, closeApp, openApp, signUp, waitForHeading } from "./app-page";
import { useDevServerAndBrowser } from "./harness";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "node_modules/.bin");
const NODE = join(BIN, "node");
const ENV = { ...process.env, PATH: `${BIN}${delimiter}${process.env.PATH ?? ""}` };

const harness = useDevServerAndBrowser();

/** Signs up in the app and keeps the access token the sign-up answered, for checks through the API. */
async function signUpWithToken(app: AppPage, displayName: string): Promise<{ username: string; token: string }> {
  const verified = app.page.waitForResponse((r) => r.url().endsWith("/v1/auth/register/verify"));
  const { username } = await signUp(app, displayName);
  const { accessToken } = (await (await verified).json()) as { accessToken: string };
  return { username, token: accessToken };
}

async function apiGet<T>(app: AppPage, token: string, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(new URL(path, app.origin), { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as T };
}

async function go(page: Page, link: string, heading: string): Promise<void> {
  await page.getByRole("navigation", { name: "Pulse" }).getByRole("link", { name: link, exact: true }).click();
  await waitForHeading(page, heading);
}

/** No serious or critical axe violation, and nothing wider than the viewport. */
async function checkPage(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

/** A definition list's value by its term, as a person reads it. */
function fact(scope: Locator, term: string): Locator {
  return scope
    .locator("dt", { hasText: new RegExp(`^${term.replace(/[()]/g, "\\$&")}$`) })
    .locator("xpath=following-sibling::dd[1]");
}

describe("connections, sharing, the access log and the enclave in the web app", () => {
  it("connects the sandbox provider from the Connections page and shows its data arriving", async () => {
    const app = await openApp(harness());
    const { page } = app;
    try {
      const { token } = await signUpWithToken(app, "Ada Lovelace");
      await go(page, "Connections", "Connections");
      expect(await page.getByText("No provider is connected yet.").count()).toBe(1);
      await checkPage(page);

      await page.getByRole("button", { name: "Connect Pulse sandbox" }).click();
      await page.getByRole("button", { name: "Continue to Pulse sandbox" }).click();
      await page.waitForURL((url) => url.pathname === "/oauth/authorize");
      await page.getByRole("button", { name: "Approve" }).click();

      // Back on the app (the session was in the page's memory): sign in again, land on Connections.
      await page.waitForURL((url) => url.pathname === "/app" && url.hash === "#/connections");
      expect(new URL(page.url()).searchParams.get("connected")).toBe("sandbox");
      // The sign-in page offers the passkey as an autofill suggestion; the virtual authenticator
      // takes it as a person picking it would, and the app opens the page the address names.
      await page.getByRole("form", { name: "Sign in" }).waitFor();
      await waitForHeading(page, "Connections");
      await page.getByRole("status").filter({ hasText: "Pulse sandbox is connected." }).waitFor();
      // The outcome is read once and taken out of the address.
      expect(page.url()).toMatch(/\/app#\/connections$/);

      const card = page.getByRole("article", { name: "Pulse sandbox" });
      expect(await fact(card, "Status").textContent()).toBe("Connected");
      // The page reads the list again until the backfill has run.
      await expect
        .poll(() => fact(card, "Last sync").textContent(), { timeout: 120_000, interval: 1_000 })
        .not.toMatch(/^Not yet/);
      const latest = page.getByRole("table", { name: "Latest from your providers" });
      await latest.waitFor({ state: "visible" });
      const heartRate = latest.getByRole("row", { name: /^Heart rate / }).first();
      expect(await heartRate.getByRole("cell").last().textContent()).toBe("Pulse sandbox");
      await checkPage(page);

      // The same value as the API's latest (the backfill may still be adding newer samples, so the
      // page is refreshed until both agree).
      const apiLatest = async () => {
        const { status, body } = await apiGet<{ items: { metric: string; sourceApp: string; value: number; unit: string }[] }>(
          app,
          token,
          "/v1/observations/latest?metrics=heart_rate",
        );
        expect(status).toBe(200);
        expect(body.items).toEqual([expect.objectContaining({ metric: "heart_rate", sourceApp: "sandbox" })]);
        return `${body.items[0]?.value} ${body.items[0]?.unit}`;
      };
      await expect
        .poll(
          async () => {
            const expected = await apiLatest();
            await page.getByRole("button", { name: "Refresh" }).click();
            await page.locator("main[aria-busy=false]").waitFor();
            return (await heartRate.getByRole("cell").first().textContent()) === expected;
          },
          { timeout: 30_000, interval: 500 },
        )
        .toBe(true);

      // The dashboard charts what the provider sent: this week's heart-rate chart has its points.
      await page.evaluate(() => {
        location.hash = "#/dashboard?range=week";
      });
      const chart = page.locator('[data-chart="heart_rate"][data-drawn="true"]');
      await chart.waitFor({ state: "visible", timeout: 60_000 });
      expect(Number(await chart.getAttribute("data-points"))).toBeGreaterThan(0);
      await go(page, "Connections", "Connections");

      await page.getByRole("button", { name: "Sync now" }).click();
      await page.getByRole("status").filter({ hasText: "Sync queued" }).waitFor();

      await page.getByRole("button", { name: "Disconnect…" }).click();
      const confirm = page.getByRole("form", { name: "Disconnect Pulse sandbox" });
      expect(await confirm.getByLabel("Keep the data already copied").isChecked()).toBe(true);
      await confirm.getByRole("button", { name: "Disconnect", exact: true }).click();
      await page.getByRole("status").filter({ hasText: "Pulse sandbox is disconnected." }).waitFor();
      // Disconnected, the provider is offered again.
      expect(await page.getByText("No provider is connected yet.").count()).toBe(1);
      expect(await page.getByRole("button", { name: "Connect Pulse sandbox" }).count()).toBe(1);
      expect(app.problems).toEqual([]);
    } finally {
      await closeApp(app);
    }
  }, 240_000);

  it("shares with a clinician, shows the clinician's read in the access log, and refuses it once revoked", async () => {
    const patient = await openApp(harness());
    const clinician = await openApp(harness(), { viewport: { width: 375, height: 800 } });
    const dataDir = mkdtempSync(join(tmpdir(), "pulse-app-share-"));
    try {
      const { token } = await signUpWithToken(patient, "Ada Lovelace");
      // Two days of heart rate, uploaded as `npm run upload` does.
      const written = await run(
        NODE,
        ["scripts/demo-data.mjs", "--days", "2", "--end", String(Date.now()), "--out", dataDir, "--only", "HeartRate"],
        { cwd: ROOT, env: ENV },
      );
      await run(NODE, ["scripts/upload.mjs", "--url", patient.origin, "--token", token, ...written.stdout.trim().split("\n")], {
        cwd: ROOT,
        env: ENV,
      });
      const latest = await apiGet<{ items: { value: number; unit: string }[] }>(
        patient,
        token,
        "/v1/observations/latest?metrics=heart_rate",
      );
      const newest = latest.body.items[0];
      expect(newest).toBeDefined();

      // A second account, made a clinician the documented way (npm run admin:grant).
      const { username: clinicianName } = await signUpWithToken(clinician, "Grace Hopper");
      await run(NODE, ["scripts/grant-admin.mjs", clinicianName, "--role", "clinician"], {
        cwd: ROOT,
        env: { ...ENV, PERSIST_DIR: harness().server.persistDir },
      });

      // The patient accepts the terms, then invites a clinician to read vitals; the code is shown once.
      const page = patient.page;
      await go(page, "Sharing", "Sharing");
      await page.getByLabel("I have read and accept the terms and the privacy notice").check();
      await page.getByRole("button", { name: "Accept" }).click();
      const invite = page.getByRole("form", { name: "Invite someone" });
      await invite.waitFor();
      expect(await invite.getByLabel("They must be a").inputValue()).toBe("clinician");
      expect(await invite.getByLabel("vitals").isChecked()).toBe(true);
      await invite.getByRole("button", { name: "Create invitation" }).click();
      await page.getByRole("heading", { name: "Invitation code" }).waitFor();
      const code = (await page.locator("p.code").textContent()) ?? "";
      expect(code).toMatch(/^PLS(-[0-9A-Z]{4})+$/);
      const invitations = page.getByRole("table", { name: "Your invitations, newest first" });
      expect(await invitations.getByRole("row").nth(1).getByRole("cell").nth(4).textContent()).toBe("pending");
      await checkPage(page);

      // The clinician's page offers redeeming once the role has reached the server's session cache.
      const other = clinician.page;
      await expect
        .poll(
          async () => {
            await go(other, "Dashboard", "Dashboard");
            await go(other, "Sharing", "Sharing");
            return other.getByRole("heading", { name: "Shared with you" }).count();
          },
          { timeout: 30_000, interval: 500 },
        )
        .toBe(1);
      await other.getByLabel("Invitation code").fill(code);
      await other.getByRole("button", { name: "Redeem" }).click();
      await other.getByRole("status").filter({ hasText: "Ada Lovelace shares vitals with you" }).waitFor();
      const grant = other.getByRole("article", { name: "Ada Lovelace" });
      await grant.getByLabel("Reason (optional)").fill("follow-up after the visit");
      await grant.getByRole("button", { name: "Read latest values" }).click();
      const values = other.getByRole("table", { name: "Ada Lovelace's latest values" });
      await values.waitFor();
      const heartRate = values.getByRole("row", { name: /^heart rate / });
      expect(await heartRate.getByRole("cell").first().textContent()).toBe(`${newest?.value} ${newest?.unit}`);
      await checkPage(other);
      expect(clinician.problems).toEqual([]);

      // The patient's access log names the clinician, the reason and the result.
      const read = async () => {
        await go(page, "Dashboard", "Dashboard");
        await go(page, "Access log", "Access log");
        return page.getByRole("row").filter({ hasText: "Grace Hopper (clinician)" });
      };
      await expect.poll(async () => (await read()).count(), { timeout: 30_000, interval: 500 }).toBeGreaterThan(0);
      const entry = (await read()).first();
      expect(await entry.getByRole("cell").nth(2).textContent()).toBe("treatment; follow-up after the visit");
      expect(await entry.getByRole("cell").nth(3).textContent()).toBe("Allowed");
      expect(await entry.getByRole("cell").nth(1).textContent()).toMatch(/heart rate/i);
      await checkPage(page);
      // Filtered to other people, the patient's own actions drop out and the clinician's read stays.
      await page.getByLabel("Who").selectOption("others");
      await page.getByRole("button", { name: "Show" }).click();
      await page.waitForURL(/#\/access-log\?actor=others$/);
      // The filtered page is shown once its heading has the focus again.
      await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe("H1");
      await page.getByRole("row").filter({ hasText: "Grace Hopper (clinician)" }).first().waitFor();
      expect(
        await page
          .getByRole("row")
          .filter({ hasText: /^\S.*\bYou\b/ })
          .count(),
      ).toBe(0);

      // The patient revokes the grant; it shows when it was last read.
      await go(page, "Sharing", "Sharing");
      const grants = page.getByRole("table", { name: "People who can read your data, newest first" });
      const row = grants.getByRole("row").filter({ hasText: "Grace Hopper (clinician)" });
      expect(await row.getByRole("cell").nth(3).textContent()).not.toBe("Never");
      await row.getByRole("button", { name: "Revoke…" }).click();
      await row.getByRole("button", { name: "Revoke Grace Hopper's access" }).click();
      await page.getByRole("status").filter({ hasText: "Grace Hopper can no longer read your data." }).waitFor();
      expect(
        await grants.getByRole("row").filter({ hasText: "Grace Hopper (clinician)" }).getByRole("cell").nth(4).textContent(),
      ).toMatch(/^revoked /);
      expect(patient.problems).toEqual([]);

      // The clinician's next read is refused, in the server's words.
      await grant.getByRole("button", { name: "Read latest values" }).click();
      const alert = other.locator("p.problem[role=alert]:not([hidden])");
      await alert.waitFor();
      // A revoked grant is answered like one never given (404), so nothing about the patient leaks.
      expect(await alert.textContent()).toBe("No patient with this id has shared data with you.");
      expect(clinician.problems).toEqual([
        expect.stringMatching(/^HTTP 404: .*\/v1\/patients\/usr_\w+\/observations\/latest$/),
        "console: Failed to load resource: the server responded with a status of 404 (Not Found)",
      ]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await closeApp(patient);
      await closeApp(clinician);
    }
  }, 240_000);

  it("answers a question beside the attestation facts, with the PCR0 the attestation route reports", async () => {
    const app = await openApp(harness(), { viewport: { width: 375, height: 800 } });
    const { page } = app;
    try {
      const { token } = await signUpWithToken(app, "Ada Lovelace");
      await go(page, "Ask", "Ask about your data");
      await page.getByLabel("Question").fill("How many steps did I take yesterday?");
      const asked = page.waitForResponse((r) => r.url().endsWith("/v1/ai/query"));
      await page.getByRole("button", { name: "Ask", exact: true }).click();
      const sent = (await asked).request().postDataJSON() as { tz: string };
      const body = (await (await asked).json()) as { answer: string; attestation: { pcr0: string }; model: { id: string } };
      const answer = page.getByRole("region", { name: "Answer" });
      await answer.waitFor();
      expect(await answer.locator("p.answer-text").textContent()).toBe(body.answer);
      expect(await fact(answer, "Enclave image (PCR0)").textContent()).toBe(body.attestation.pcr0);
      const model = (await fact(answer, "Model").textContent()) ?? "";
      expect(model.startsWith(`${body.model.id} — `)).toBe(true);
      expect(model).toMatch(/; confidential$/);
      const tz = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
      expect(sent.tz).toBe(tz);
      expect(await fact(answer, "Time zone").textContent()).toBe(tz);

      await page.getByRole("button", { name: "Check the enclave" }).click();
      const checked = page.getByRole("region", { name: "The enclave, checked now" });
      await checked.waitFor();
      const report = await apiGet<{ verified: { pcrs: Record<string, string> } }>(app, token, "/v1/ai/attestation");
      expect(report.status).toBe(200);
      expect(report.body.verified.pcrs["0"]).toBe(body.attestation.pcr0);
      expect(await fact(checked, "PCR0 (image)").textContent()).toBe(report.body.verified.pcrs["0"]);
      expect(await fact(checked, "PCR1 (kernel)").textContent()).toBe(report.body.verified.pcrs["1"]);
      expect(await fact(checked, "PCR2 (application)").textContent()).toBe(report.body.verified.pcrs["2"]);
      expect(await fact(checked, "Same image as the answer").textContent()).toBe("Yes");
      await checkPage(page);
      expect(app.problems).toEqual([]);
    } finally {
      await closeApp(app);
    }
  }, 120_000);
});
