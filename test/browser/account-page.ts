// Helpers for the browser tests that drive the web app's account pages (/app#/account): reading
// what a person sees, signing up while keeping the tokens the page received, and giving another
// browser context the same passkey.
import AxeBuilder from "@axe-core/playwright";
import type { Locator, Page } from "playwright-core";
import { expect } from "vitest";
import { type AppPage, type OpenOptions, openApp, signUp, waitForHeading } from "./app-page";
import type { Harness } from "./harness";

/**
 * /app with passkey autofill (conditional mediation) turned off. Chromium's virtual authenticator
 * answers an autofill request by itself with the passkey it holds, where a person would have to
 * pick it; left on, every sign-in page would sign straight back in, racing the test's clicks.
 */
export async function openAppWithoutAutofill(harness: Harness, options: OpenOptions = {}): Promise<AppPage> {
  const app = await openApp(harness, options);
  // The first load's autofill request fetches its options; let it finish rather than abort it.
  await app.page.waitForLoadState("networkidle");
  await app.page.addInitScript("PublicKeyCredential.isConditionalMediationAvailable = async () => false;");
  const reloaded = await app.page.reload();
  expect(reloaded?.status()).toBe(200);
  return app;
}

/** The text as laid out on screen, which is what a person reads. */
export function visibleText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: rendered text (hidden parts excluded) is the point.
  return locator.innerText();
}

export interface SignedUp {
  username: string;
  codes: string[];
  accessToken: string;
  sessionId: string;
}

/** Signs up through the page and keeps the tokens its sign-up answer carried, for API checks. */
export async function signUpKeepingTokens(app: AppPage, displayName?: string): Promise<SignedUp> {
  const verified = app.page.waitForResponse((r) => r.url().endsWith("/v1/auth/register/verify"));
  const { username, codes } = await signUp(app, displayName);
  const { accessToken, sessionId } = (await (await verified).json()) as { accessToken: string; sessionId: string };
  return { username, codes, accessToken, sessionId };
}

/** Opens the Account page from the navigation and waits until its lists are drawn. */
export async function openAccount(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Account" }).click();
  await waitForHeading(page, "Account");
}

/** Accepts the next confirm dialog, checking its question. */
export function acceptNextDialog(page: Page, question: RegExp): void {
  page.once("dialog", (dialog) => {
    expect(dialog.message()).toMatch(question);
    void dialog.accept();
  });
}

/** The passkeys of `from`'s virtual authenticator copied onto `to`'s, as a synced passkey would be. */
export async function copyPasskeys(from: AppPage, to: AppPage): Promise<void> {
  const { credentials } = await from.cdp.send("WebAuthn.getCredentials", { authenticatorId: from.authenticatorId });
  for (const credential of credentials) {
    await to.cdp.send("WebAuthn.addCredential", { authenticatorId: to.authenticatorId, credential });
  }
}

/**
 * What went wrong on a page besides the refusals a test provoked on purpose: the HTTP lines matching
 * `expected`, and the console line Chromium logs for each of them.
 */
export function unexpectedProblems(problems: string[], expected: RegExp[]): string[] {
  const refused = problems.filter((problem) => expected.some((pattern) => pattern.test(problem)));
  const rest = problems.filter((problem) => !refused.includes(problem));
  for (const line of refused) {
    const status = /^HTTP (\d+):/.exec(line)?.[1] ?? "none";
    const echo = rest.findIndex((problem) =>
      problem.startsWith(`console: Failed to load resource: the server responded with a status of ${status} `),
    );
    if (echo >= 0) rest.splice(echo, 1);
  }
  return rest;
}

/** axe-core's serious and critical findings on the page as it is now, as "rule: target" lines. */
export async function seriousAccessibilityProblems(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .flatMap((violation) => violation.nodes.map((node) => `${violation.id}: ${node.target.join(" ")}`));
}

/** Waits (as long as a ceremony may take on a busy machine) until the status line says `text`. */
export async function waitForStatus(page: Page, text: string): Promise<void> {
  await expect.poll(() => visibleText(page.getByRole("status")), { timeout: 30_000 }).toBe(text);
}
