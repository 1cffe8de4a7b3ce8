// /portal in Chromium with a CDP virtual authenticator standing in for the platform authenticator
// (Touch ID, Windows Hello), shared by the browser tests. The page is opened on `localhost`: that is
// the RP ID in development, and WebAuthn refuses an RP ID that is not the page's host or a suffix of it.
import type { BrowserContext, CDPSession, Locator, Page } from "playwright-core";
import { expect } from "vitest";
import { type Harness, watchProblems } from "./harness";

export interface Portal {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
  problems: string[];
}

/** Opens /portal on localhost with a fresh virtual authenticator, recording everything that goes wrong. */
export async function openPortal({ server, browser }: Harness): Promise<Portal> {
  const context = await browser.newContext();
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

  const response = await page.goto(`${server.url.replace("127.0.0.1", "localhost")}/portal`);
  expect(response?.status()).toBe(200);
  return { context, page, cdp, authenticatorId, problems };
}

export async function closePortal(portal: Portal): Promise<void> {
  try {
    await portal.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: portal.authenticatorId });
    await portal.cdp.detach();
  } finally {
    await portal.context.close();
  }
}

/** The text as laid out on screen, which is what a person reads. */
export function visibleText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: rendered text (hidden parts excluded) is the point.
  return locator.innerText();
}

/**
 * Waits for the portal to finish a ceremony. A problem the page shows (its role="alert" box)
 * fails the test at once with the text a person would read, instead of a timeout.
 */
export async function signedInGreeting(page: Page): Promise<string> {
  const greeting = page.getByRole("heading", { level: 2, name: /^Signed in as / });
  const alert = page.getByRole("alert");
  await greeting.or(alert).first().waitFor({ state: "visible" });
  if (await alert.isVisible()) throw new Error(`the portal showed a problem: ${await visibleText(alert)}`);
  return visibleText(greeting);
}
