/**
 * What the account page's panels share: a titled card whose body is re-rendered from the API after
 * every change, and actions that ask first, run with a busy message and announce their result.
 */
import { h } from "../../dom.ts";
import type { ViewContext } from "../../view.ts";

export interface Panel {
  readonly element: HTMLElement;
  /** Reads the panel's data again and redraws it. */
  refresh(): Promise<void>;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A card with an h2 that names it (for the landmark list of screen readers) and a live body. */
export function card(id: string, title: string, ...intro: (Node | string)[]): { element: HTMLElement; body: HTMLElement } {
  const headingId = `${id}-title`;
  const body = h("div", { class: "panel-body" });
  const element = h(
    "section",
    { class: "card account-panel", id, "aria-labelledby": headingId },
    h("h2", { id: headingId, tabindex: "-1" }, title),
    ...intro.map((node) => (typeof node === "string" ? h("p", { class: "hint" }, node) : node)),
    body,
  );
  return { element, body };
}

/**
 * Runs a change after the person agreed to it (a native confirm dialog: keyboard operable and read
 * by screen readers everywhere), then announces `done`. Failures reach the shell's alert region
 * with the server's problem text. Resolves true when the change was made.
 */
export async function change(
  ctx: ViewContext,
  options: { confirm?: string; busy: string; done: string | (() => string) },
  task: () => Promise<void>,
): Promise<boolean> {
  if (options.confirm !== undefined && !window.confirm(options.confirm)) return false;
  const ok = await ctx.run(options.busy, task);
  // The shell clears its status line when the task ends, so the result is announced after it.
  if (ok) ctx.announce(typeof options.done === "function" ? options.done() : options.done);
  return ok;
}

/** After a row disappears its button is gone: focus goes back to the panel's heading. */
export function focusHeading(element: HTMLElement): void {
  element.querySelector<HTMLElement>("h2")?.focus();
}

/** Every page of a cursor-paged list (sessions and devices are few; 100 a page). */
export async function readAll<T>(ctx: ViewContext, path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? "limit=100" : `limit=100&cursor=${encodeURIComponent(cursor)}`;
    const page: Page<T> = await ctx.api.request<Page<T>>("GET", `${path}?${query}`, { signal: ctx.signal });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleDateString(undefined, { dateStyle: "medium" });
}

/** A table with a caption (its accessible name) and column headers, scrolling sideways on a phone. */
export function table(caption: string, headers: string[], rows: HTMLTableRowElement[]): HTMLElement {
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...headers.map((header) => h("th", { scope: "col" }, header)))),
      h("tbody", {}, ...rows),
    ),
  );
}
