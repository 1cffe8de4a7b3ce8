// The system Chromium (Debian's `chromium` package) driven by playwright-core: no browser download,
// nothing that reaches the network on its own. scripts/ensure-chromium.mjs decides which binary
// (and installs it when `npm test` may), so the tests launch exactly the one it checked.
import { type Browser, chromium } from "playwright-core";
import { chromiumPath } from "../../scripts/ensure-chromium.mjs";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
