// Helpers for the browser tests that drive the web app's account pages (/app#/account): reading
// what a person sees, signing up while keeping the tokens the page received, and giving another
// browser context the same passkey.
import type { Locator, Page } from "playwright-core";
import { expect } from "vitest";
import { type AppPage, signUp, waitForHeading } from "./app-page";

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
