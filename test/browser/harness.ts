import type { Browser } from "playwright-core";
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
