import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { useDevServerAndBrowser, watchProblems } from "./harness";

const harness = useDevServerAndBrowser();

/** The text as laid out on screen, which is what a person reads. */
function visibleText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: rendered text (hidden parts excluded, blocks separated) is the point.
  return locator.innerText();
}

/** Opens /docs and records everything a person would see go wrong: errors, CSP violations, failed loads. */
async function openDocs(): Promise<{ page: Page; problems: string[] }> {
  const { server, browser } = harness();
  const page = await browser.newPage();
  const problems = await watchProblems(page);
  const response = await page.goto(`${server.url}/docs`);
  expect(response?.status()).toBe(200);
  return { page, problems };
}

describe("/docs in Chromium", () => {
  it("shows the API reference with the /health operation, without errors or CSP violations", async () => {
    const { page, problems } = await openDocs();
    const health = page.getByRole("article", { name: "GET /health" });
    await health.waitFor({ state: "visible" });

    expect(await page.title()).toBe("Pulse API reference");
    expect(await visibleText(page.getByRole("heading", { level: 1 }))).toContain("Pulse API");
    expect(await page.getByRole("heading", { level: 2, name: "Operations" }).isVisible()).toBe(true);

    const card = await visibleText(health);
    expect(card).toContain("Liveness and dependency checks (D1, R2)");
    expect(card).toMatch(/200\s+All dependencies answer/);
    expect(card).toMatch(/503\s+Problem details \(RFC 9457\)/);
    expect(card).toContain("application/problem+json");
    expect(card).toContain("checks");

    const indexLink = page.getByRole("navigation").getByRole("link", { name: "GET /health" });
    expect(await indexLink.getAttribute("href")).toBe(`#${await health.getAttribute("id")}`);
    expect(await visibleText(page.getByRole("article", { name: "Problem" }))).toContain("requestId");

    expect(problems).toEqual([]);
    await page.close();
  });

  it("filters the operations by what a person types", async () => {
    const { page, problems } = await openDocs();
    const health = page.getByRole("article", { name: "GET /health" });
    await health.waitFor({ state: "visible" });

    const filter = page.getByRole("searchbox", { name: "Filter operations" });
    await filter.fill("no-such-operation");
    await health.waitFor({ state: "hidden" });
    expect(await page.getByRole("navigation").getByRole("link", { name: "GET /health" }).isVisible()).toBe(false);

    await filter.fill("health");
    await health.waitFor({ state: "visible" });

    expect(problems).toEqual([]);
    await page.close();
  });
});
