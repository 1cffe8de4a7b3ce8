// The API reference at /docs (Scalar, bundled into Pulse's own assets) in Chromium: it renders the
// operations of /openapi.json, its search finds the upload routes, try-it-out with a bearer token
// calls the API on the same origin and shows the answer — with no request to any other origin, no
// console error or CSP violation, and no serious or critical axe finding.
import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { expectAccessible } from "./axe";
import { useDevServerAndBrowser, watchProblems } from "./harness";

const harness = useDevServerAndBrowser();

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const NODE = join(ROOT, "node_modules/.bin/node");

interface DocsPage {
  page: Page;
  problems: string[];
  /** Every URL the page asked for. */
  requests: string[];
}

/** Opens /docs and records what a person would see go wrong, and every request it makes. */
async function openDocs(origin: string): Promise<DocsPage> {
  const { browser } = harness();
  // A context of its own: axe opens a second page in it to assemble its results.
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = await watchProblems(page);
  const requests: string[] = [];
  page.on("request", (request) => requests.push(request.url()));
  const response = await page.goto(`${origin}/docs`);
  expect(response?.status()).toBe(200);
  await page.getByRole("heading", { level: 1, name: "Pulse API" }).waitFor();
  return { page, problems, requests };
}

function otherOrigins(requests: string[], origin: string): string[] {
  return requests.filter((url) => new URL(url).origin !== origin && !url.startsWith("data:"));
}

/** Signs up through scripts/dev-signup.mjs (a software passkey) and returns its access token. */
async function accessToken(origin: string): Promise<string> {
  const { stdout } = await promisify(execFile)(NODE, ["scripts/dev-signup.mjs", "--url", origin], { cwd: ROOT });
  const token = /^export PULSE_TOKEN=(".*")$/m.exec(stdout)?.[1];
  if (!token) throw new Error(`dev-signup printed no token:\n${stdout}`);
  return JSON.parse(token) as string;
}

describe("/docs in Chromium", () => {
  it("renders the operations of /openapi.json from this origin only, accessibly", async () => {
    const origin = harness().server.url;
    const { page, problems, requests } = await openDocs(origin);
    try {
      expect(await page.title()).toBe("Pulse API reference");
      // The sidebar lists the operations by tag.
      for (const tag of ["Operations", "Uploads", "Health data", "Sharing", "FHIR"]) {
        expect(await page.getByText(tag, { exact: true }).count(), tag).toBeGreaterThan(0);
      }
      await page.getByRole("heading", { name: "Liveness and dependency checks (D1, R2)" }).first().waitFor();
      expect(requests).toContain(`${origin}/openapi.json`);
      await expectAccessible(page, "/docs");
      expect(otherOrigins(requests, origin)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it("finds the upload routes when a person searches for uploads", async () => {
    const origin = harness().server.url;
    const { page, problems, requests } = await openDocs(origin);
    try {
      await page
        .getByRole("button", { name: /Search/ })
        .first()
        .click();
      await page.keyboard.type("uploads");
      const search = page.getByRole("dialog", { name: "Search" });
      const results = search.getByRole("option");
      await results.filter({ hasText: "Upload a Health Connect export" }).first().waitFor();
      // Each result names the operation, its method and its path.
      const create = (await results.filter({ hasText: "Upload a Health Connect export" }).first().textContent()) ?? "";
      expect(create).toMatch(/HTTP Method: post\s*Path:\s*\/v1\/uploads$/);
      const status = (await results.filter({ hasText: "An upload's status and counts" }).first().textContent()) ?? "";
      expect(status).toMatch(/HTTP Method: get\s*Path:\s*\/v1\/uploads\/\{id\}$/);
      expect(otherOrigins(requests, origin)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it("tries GET /v1/me with a bearer token against this origin and shows the 200 answer", async () => {
    // WebAuthn's RP ID is `localhost` in development: sign up and browse on that host name.
    const origin = harness().server.url.replace("127.0.0.1", "localhost");
    const token = await accessToken(origin);
    const { page, problems, requests } = await openDocs(origin);
    try {
      await page
        .getByLabel(/Bearer Token/i)
        .first()
        .fill(token);
      // Scalar renders operations as they come into view: go to GET /v1/me by its address.
      await page.goto(`${origin}/docs#tag/account/GET/v1/me`);
      const operation = page.locator("section", { has: page.getByRole("heading", { name: "The signed-in user" }) }).first();
      await operation.getByRole("button", { name: /Test Request/ }).click();
      const answered = page.waitForResponse((response) => response.url() === `${origin}/v1/me`);
      await page.getByRole("button", { name: /^Send get request/ }).click();
      const response = await answered;
      expect(response.status()).toBe(200);
      expect(response.request().headers().authorization).toBe(`Bearer ${token}`);
      const client = page.getByRole("dialog").last();
      await client.getByText("200 OK").waitFor();
      expect(await client.getByText('"username"').count()).toBeGreaterThan(0);
      expect(otherOrigins(requests, origin)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});
