import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { useDevServerAndBrowser, watchProblems } from "./harness";

/**
 * Connecting the sandbox provider as a person does on `npm run dev` (which also starts
 * tools/sandbox-provider): sign up with scripts/dev-signup.mjs, ask Pulse for a connection, open
 * the link in Chromium, continue on Pulse's confirmation page, approve on the sandbox's consent
 * page, land on Pulse's success page, and see the backfilled heart rate through the API. A callback
 * opened in another browser (no binding cookie) must connect nothing.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const NODE = join(ROOT, "node_modules/.bin/node");
const harness = useDevServerAndBrowser();

/** The dev server on `localhost`: the sandbox's registered redirect URI and WebAuthn's RP ID use that name. */
function baseUrl(): string {
  return harness().server.url.replace("127.0.0.1", "localhost");
}

async function signUp(url: string): Promise<string> {
  const { stdout } = await promisify(execFile)(NODE, ["scripts/dev-signup.mjs", "--url", url], { cwd: ROOT });
  const token = /^export PULSE_TOKEN=(".*")$/m.exec(stdout)?.[1];
  if (!token) throw new Error(`dev-signup printed no token:\n${stdout}`);
  return JSON.parse(token) as string;
}

async function api<T>(token: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(new URL(path, baseUrl()), {
    ...init,
    headers: { Authorization: `Bearer ${token}`, ...(init.body ? { "Content-Type": "application/json" } : {}) },
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function startConnection(token: string): Promise<string> {
  const started = await api<{ authorizeUrl: string }>(token, "/v1/connections/sandbox", { method: "POST", body: "{}" });
  expect(started.status).toBe(201);
  return started.body.authorizeUrl;
}

interface Overview {
  connections: { provider: string; status: string; lastSyncAt: string | null }[];
}

describe("connecting the sandbox provider in a browser", () => {
  it("connects through the confirmation and consent pages, and the backfilled heart rate appears", async () => {
    const token = await signUp(baseUrl());
    const authorizeUrl = await startConnection(token);

    const context = await harness().browser.newContext();
    try {
      const page = await context.newPage();
      const problems = await watchProblems(page);
      await page.goto(authorizeUrl);
      await page.getByRole("button", { name: "Continue to Pulse sandbox" }).click();
      await page.waitForURL((url) => url.pathname === "/oauth/authorize");
      await page.getByRole("button", { name: "Approve" }).click();
      await page.waitForURL((url) => url.pathname === "/oauth/sandbox/callback");
      await expect.poll(() => page.getByRole("heading", { level: 2 }).textContent()).toBe("Pulse sandbox connected");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }

    // The backfill runs on the local queue: wait for it as a client would, through the API.
    const started = Date.now();
    await expect
      .poll(
        async () => {
          const { body } = await api<Overview>(token, "/v1/connections");
          return body.connections.find((c) => c.provider === "sandbox")?.lastSyncAt ?? null;
        },
        { timeout: 120_000, interval: 1_000 },
      )
      .not.toBeNull();
    const backfillSeconds = Math.round((Date.now() - started) / 1000);
    const latest = await api<{ items: { metric: string; value: number; sourceApp: string; start: string }[] }>(
      token,
      "/v1/observations/latest?metrics=heart_rate",
    );
    expect(latest.status).toBe(200);
    expect(latest.body.items).toHaveLength(1);
    const [sample] = latest.body.items;
    expect(sample).toMatchObject({ metric: "heart_rate", sourceApp: "sandbox" });
    expect(sample?.value).toBeGreaterThan(30);
    // The sandbox holds data up to an hour before the approval (or later, once it pushes).
    expect(Date.now() - Date.parse(sample?.start ?? "")).toBeLessThan(2 * 60 * 60_000);
    console.log(JSON.stringify({ e2e: "browser connect", backfillSeconds }));
  }, 180_000);

  it("connects nothing when the callback is opened in another browser", async () => {
    const token = await signUp(baseUrl());
    const authorizeUrl = await startConnection(token);

    // The person's browser confirms and approves; the redirect back to Pulse is caught and opened
    // in a second browser context instead, which never received the binding cookie.
    const mine = await harness().browser.newContext();
    const other = await harness().browser.newContext();
    try {
      const page = await mine.newPage();
      let callback: string | null = null;
      // Playwright routes only the first request of a redirect chain: take the sandbox's answer to
      // the consent form and keep its 303 Location instead of following it.
      await page.route(
        (url) => url.pathname === "/oauth/authorize",
        async (route) => {
          if (route.request().method() !== "POST") return route.continue();
          const answer = await route.fetch({ maxRedirects: 0 });
          callback = answer.headers().location ?? null;
          await route.fulfill({ status: 200, contentType: "text/plain", body: "caught" });
        },
      );
      await page.goto(authorizeUrl);
      await page.getByRole("button", { name: "Continue to Pulse sandbox" }).click();
      await page.waitForURL((url) => url.pathname === "/oauth/authorize");
      await page.getByRole("button", { name: "Approve" }).click();
      await expect.poll(() => callback).not.toBeNull();

      const elsewhere = await other.newPage();
      const response = await elsewhere.goto(callback ?? "");
      expect(response?.status()).toBe(400);
      expect(await elsewhere.getByRole("heading", { level: 2 }).textContent()).toBe("Finish in the same browser");
    } finally {
      await mine.close();
      await other.close();
    }
    const { body } = await api<Overview>(token, "/v1/connections");
    expect(body.connections).toEqual([]);
  }, 120_000);
});
