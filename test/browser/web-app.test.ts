// The web app at /app, served by `npm run dev`, driven in Debian's Chromium with a virtual
// authenticator: sign-up with a passkey, the recovery codes shown once, navigation between views,
// sign-out ending the session — with no console error, CSP violation or failed request on the way.
import { describe, expect, it } from "vitest";
import { closeApp, openApp, signUp, waitForHeading } from "./app-page";
import { useDevServerAndBrowser } from "./harness";

const harness = useDevServerAndBrowser();

describe("the web app in Chromium", () => {
  it("signs up with a passkey, shows the recovery codes once, navigates, and signs out", async () => {
    const app = await openApp(harness());
    const { page } = app;
    try {
      const { codes } = await signUp(app);
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      expect(await page.getByText(codes[0] ?? "no code").count()).toBe(0);
      expect(await page.title()).toBe("Dashboard — Pulse");

      // The navigation is links to hash routes; the current one is marked for assistive technology.
      await page.getByRole("link", { name: "Ask" }).click();
      await waitForHeading(page, "Ask about your data");
      expect(page.url()).toMatch(/#\/ask$/);
      expect(await page.getByRole("link", { name: "Ask" }).getAttribute("aria-current")).toBe("page");
      await page.goBack();
      await waitForHeading(page, "Dashboard");

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("form", { name: "Sign in" }).waitFor({ state: "visible" });
      expect(app.problems).toEqual([]);
    } finally {
      await closeApp(app);
    }
  });
});
