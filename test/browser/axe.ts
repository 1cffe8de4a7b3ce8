// Accessibility checks with axe-core (@axe-core/playwright) for the browser tests: a page passes
// when axe finds no serious or critical violation of WCAG 2.1 A/AA. Minor and moderate findings
// are left to review; the ones that block people (no label, no contrast, no name) fail the test.
import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { expect } from "vitest";

const BLOCKING = new Set(["serious", "critical"]);

/** Fails with each blocking violation's rule, help text and the first elements it names. */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const blocking = results.violations
    .filter((violation) => BLOCKING.has(violation.impact ?? ""))
    .map((violation) => {
      const targets = violation.nodes.slice(0, 3).map((node) => node.target.join(" "));
      return `${violation.impact} ${violation.id}: ${violation.help} (${targets.join("; ")})`;
    });
  expect(blocking, `axe on ${label}`).toEqual([]);
}
