/**
 * "Who looked at my data" (GET /v1/me/access-log): every access, newest first, in the server's own
 * sentences — who (a name and role), what was read or changed over which period, why (a grantee's
 * stated reason) and with what result. The filters live in the address (`#/access-log?actor=others`)
 * so a filtered view can be bookmarked and the back button restores it.
 */
import { field, formatDateTime, h } from "../dom.ts";
import type { View } from "../view.ts";

interface AccessLogItem {
  seq: number;
  at: string;
  who: { kind: string; displayName?: string; role: string; label: string };
  action: string;
  description: string;
  categories: string[];
  reason: string | null;
  result: "success" | "failure" | "denied";
  requestId: string | null;
}

const WHO_OPTIONS: [string, string][] = [
  ["", "Everyone"],
  ["others", "Everyone but me"],
  ["me", "Only me"],
];
const ROLE_OPTIONS: [string, string][] = [
  ["", "Any role"],
  ["clinician", "Clinicians"],
  ["researcher", "Researchers"],
  ["patient", "Patients (you)"],
  ["system", "Pulse itself (ingestion, sync, the analyst)"],
  ["auditor", "Auditors"],
  ["admin", "Administrators"],
];
const RESULT_WORDS: Record<AccessLogItem["result"], string> = {
  success: "Allowed",
  failure: "Failed",
  denied: "Refused",
};
const PAGE_SIZE = 50;

function dateValue(iso: string | null): string {
  return iso === null ? "" : iso.slice(0, 10);
}

function select(name: string, options: [string, string][], value: string): HTMLSelectElement {
  const element = h("select", { name }, ...options.map(([v, label]) => h("option", { value: v }, label)));
  element.value = options.some(([v]) => v === value) ? value : "";
  return element;
}

const accessLog: View = {
  title: "Access log",
  async render(ctx) {
    const actor = ctx.query.get("actor") ?? "";
    const role = ctx.query.get("role") ?? "";
    const since = ctx.query.get("since");
    const until = ctx.query.get("until");

    const who = select("actor", WHO_OPTIONS, actor);
    const roleSelect = select("role", ROLE_OPTIONS, role);
    const sinceInput = h("input", { type: "date", name: "since", value: dateValue(since) });
    const untilInput = h("input", { type: "date", name: "until", value: dateValue(until) });
    const filters = h(
      "form",
      { class: "card filters", "aria-label": "Filter the access log" },
      h(
        "div",
        { class: "panels" },
        field("Who", who),
        field("Role", roleSelect),
        field("From", sinceInput),
        field("Until (inclusive)", untilInput),
      ),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Show")),
    );
    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      const query = new URLSearchParams();
      if (who.value !== "") query.set("actor", who.value);
      if (roleSelect.value !== "") query.set("role", roleSelect.value);
      // Whole local days: from the first day's midnight to the midnight after the last.
      if (sinceInput.value !== "") query.set("since", new Date(`${sinceInput.value}T00:00:00`).toISOString());
      if (untilInput.value !== "") {
        const end = new Date(`${untilInput.value}T00:00:00`);
        end.setDate(end.getDate() + 1);
        query.set("until", end.toISOString());
      }
      const text = query.toString();
      ctx.navigate(text === "" ? "access-log" : `access-log?${text}`);
    });

    const api = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (actor !== "") api.set("actor", actor);
    if (role !== "") api.set("role", role);
    if (since !== null) api.set("since", since);
    if (until !== null) api.set("until", until);

    const tbody = h("tbody");
    const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show older");
    const count = h("p", { class: "hint", role: "status" });
    let shown = 0;
    const row = (item: AccessLogItem) =>
      h(
        "tr",
        { "data-result": item.result },
        h("td", {}, h("time", { datetime: item.at }, formatDateTime(item.at))),
        h("th", { scope: "row" }, item.who.label),
        h("td", {}, item.description),
        h("td", {}, item.reason ?? ""),
        h("td", { class: `result-${item.result}` }, RESULT_WORDS[item.result] ?? item.result),
      );
    const load = async (cursor: string | null) => {
      const query = new URLSearchParams(api);
      if (cursor !== null) query.set("cursor", cursor);
      const page = await ctx.api.request<{ items: AccessLogItem[]; nextCursor: string | null }>(
        "GET",
        `/v1/me/access-log?${query}`,
        { signal: ctx.signal },
      );
      tbody.append(...page.items.map(row));
      shown += page.items.length;
      count.textContent = `${shown} ${shown === 1 ? "entry" : "entries"} shown${page.nextCursor === null ? "" : "; older ones follow"}.`;
      more.hidden = page.nextCursor === null;
      more.onclick = page.nextCursor === null ? null : () => void ctx.run("Reading older entries…", () => load(page.nextCursor));
    };
    await load(null);

    const filtered = actor !== "" || role !== "" || since !== null || until !== null;
    const body =
      shown === 0
        ? h("p", {}, filtered ? "No entry matches these filters." : "Nobody has read or changed your data yet.")
        : h(
            "div",
            { class: "table-scroll" },
            h(
              "table",
              { class: "access-log" },
              h("caption", {}, "Accesses to your data, newest first"),
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  h("th", { scope: "col" }, "When"),
                  h("th", { scope: "col" }, "Who"),
                  h("th", { scope: "col" }, "What"),
                  h("th", { scope: "col" }, "Why"),
                  h("th", { scope: "col" }, "Result"),
                ),
              ),
              tbody,
            ),
          );

    return h(
      "section",
      {},
      h("h1", {}, "Access log"),
      h(
        "p",
        { class: "lead" },
        "Who looked at your data: every read and change, by you, the people you share with, Pulse's own services and its auditors. Reading this page is not itself recorded.",
      ),
      filters,
      count,
      body,
      h("div", { class: "actions" }, more),
    );
  },
};
export default accessLog;
