// The web app (/app) in Chromium with a CDP virtual authenticator standing in for the platform
// authenticator (Touch ID, Windows Hello), shared by the browser tests. The page is opened on
// `localhost`: that is the RP ID in development, and WebAuthn refuses an RP ID that is not the
// page's host or a suffix of it.
import { randomUUID } from "node:crypto";
import type { BrowserContext, CDPSession, Page } from "playwright-core";
import { expect } from "vitest";
import { type Harness, watchProblems } from "./harness";

export interface AppPage {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
  /** Everything that went wrong on the page: console errors, CSP violations, failed requests. */
  problems: string[];
  origin: string;
}

export interface OpenOptions {
  /** CSS pixels; a phone is 375 wide. */
  viewport?: { width: number; height: number };
}

/** Opens /app on localhost with a fresh virtual authenticator, recording everything that goes wrong. */
export async function openApp({ server, browser }: Harness, options: OpenOptions = {}): Promise<AppPage> {
  const context = await browser.newContext(options.viewport ? { viewport: options.viewport } : {});
  const page = await context.newPage();
  const problems = await watchProblems(page);
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  const origin = server.url.replace("127.0.0.1", "localhost");
  const response = await page.goto(`${origin}/app`);
  expect(response?.status()).toBe(200);
  return { context, page, cdp, authenticatorId, problems, origin };
}

export async function closeApp(app: AppPage): Promise<void> {
  try {
    await app.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: app.authenticatorId });
    await app.cdp.detach();
  } finally {
    await app.context.close();
  }
}

/**
 * Fails at once with the text a person would read when the page shows a problem (its role="alert"
 * region), instead of waiting for a timeout.
 */
export async function waitForHeading(page: Page, name: string | RegExp): Promise<void> {
  const heading = page.getByRole("heading", { level: 1, name });
  const alert = page.locator("p.problem[role=alert]:not([hidden])");
  const which = await Promise.race([
    heading.waitFor({ state: "visible", timeout: 30_000 }).then(() => "heading" as const),
    alert.waitFor({ state: "visible", timeout: 30_000 }).then(() => "alert" as const),
  ]);
  if (which === "alert") throw new Error(`the page showed a problem: ${await alert.textContent()}`);
}

/** Signs up a new account with a passkey and passes the recovery codes; returns its username and codes. */
export async function signUp(app: AppPage, displayName = "Ada Lovelace"): Promise<{ username: string; codes: string[] }> {
  const { page } = app;
  const username = `ada-${randomUUID().slice(0, 8)}`;
  const form = page.getByRole("form", { name: "Create an account" });
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Display name").fill(displayName);
  await form.getByRole("button", { name: "Sign up with a passkey" }).click();
  await waitForHeading(page, "Save your recovery codes");
  const codes = (await page.getByRole("listitem").allTextContents()).map((code) => code.trim());
  await page.getByRole("button", { name: "I have saved them" }).click();
  await waitForHeading(page, "Dashboard");
  return { username, codes };
}
