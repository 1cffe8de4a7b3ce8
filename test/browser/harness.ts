import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { launchChromium } from "./chromium";
import { type DevServer, startDevServer } from "./dev-server";

export interface Harness {
  server: DevServer;
  browser: Browser;
}

/**
 * One `npm run dev` server and one Chromium for the test file, started before its tests and always
 * stopped after them (browser first, then the server's process group). Call at the top of a file;
 * `harness()` returns both once they are up.
 */
export function useDevServerAndBrowser(): () => Harness {
  let server: DevServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await startDevServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await server?.stop();
    }
  });
  return () => {
    if (!browser || !server) throw new Error("the dev server or the browser did not start");
    return { server, browser };
  };
}

/**
 * Records everything a person would see go wrong on a page: console errors, page errors, CSP
 * violations, failed requests and HTTP errors. Call before the first navigation.
 */
export async function watchProblems(page: Page): Promise<string[]> {
  const problems: string[] = [];
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));",
  );
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => {
    const error = request.failure()?.errorText ?? "";
    // A view aborts its pending reads when the person leaves it (ViewContext.signal): the page
    // cancelled them itself, nothing went wrong that anyone would see.
    if (error === "net::ERR_ABORTED") return;
    problems.push(`failed: ${request.url()} ${error}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return problems;
}
