/**
 * The dashboard: the charts of one period (a day, a week, a month or a custom span, in the
 * browser's time zone), the summary of its last day and the narrative of that day or week. The
 * page appears at once; each part fills in when its own read answers, so the first chart does not
 * wait for the narrative. The period lives in the address (`#/dashboard?range=week&end=…`).
 */
import { field, h } from "../dom.ts";
import type { View, ViewContext } from "../view.ts";
import { readNarrative, readSeries, readSleep, readSummary } from "./dashboard/data.ts";
import {
  addDays,
  describeRange,
  MAX_DAYS,
  type Range,
  type RangeKind,
  RESOLUTION_TEXT,
  rangeFrom,
  rangeQuery,
  shifted,
  today,
} from "./dashboard/range.ts";
import { emptyState, metricCharts, narrativeCard, sleepChart, summaryCards } from "./dashboard/sections.ts";

const KINDS: { kind: Exclude<RangeKind, "custom">; label: string }[] = [
  { kind: "day", label: "Day" },
  { kind: "week", label: "Week" },
  { kind: "month", label: "Month" },
];

function picker(ctx: ViewContext, range: Range): HTMLElement {
  const go = (next: Pick<Range, "kind" | "from" | "to">) => ctx.navigate(`dashboard?${rangeQuery(next)}`);
  const buttons = KINDS.map(({ kind, label }) => {
    const button = h("button", { type: "button", class: "secondary", "aria-pressed": String(range.kind === kind) }, label);
    button.addEventListener("click", () => go({ kind, from: range.to, to: range.to }));
    return button;
  });
  const earlier = h("button", { type: "button", class: "secondary" }, "Earlier");
  earlier.addEventListener("click", () => go(shifted(range, -1)));
  const later = h("button", { type: "button", class: "secondary", disabled: range.to >= today() }, "Later");
  later.addEventListener("click", () => go(shifted(range, 1)));

  const from = h("input", { type: "date", name: "from", value: range.from, max: today(), required: true });
  const to = h("input", { type: "date", name: "to", value: range.to, max: today(), required: true });
  const custom = h(
    "form",
    { class: "custom-range", "aria-label": "Custom period" },
    field("From", from),
    field("To", to),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show")),
  );
  custom.addEventListener("submit", (event) => {
    event.preventDefault();
    if (from.value > to.value) {
      to.setCustomValidity("The end must not be before the start.");
      to.reportValidity();
      return;
    }
    if (addDays(from.value, MAX_DAYS) <= to.value) {
      to.setCustomValidity(`At most ${MAX_DAYS} days.`);
      to.reportValidity();
      return;
    }
    go({ kind: "custom", from: from.value, to: to.value });
  });
  to.addEventListener("input", () => to.setCustomValidity(""));

  return h(
    "div",
    { class: "card range-picker" },
    h("div", { class: "range-kinds", role: "group", "aria-label": "Period" }, ...buttons),
    h("div", { class: "range-steps", role: "group", "aria-label": "Move the period" }, earlier, later),
    custom,
  );
}

const dashboard: View = {
  title: "Dashboard",
  render(ctx) {
    const range = rangeFrom(ctx.query);
    const charts = h("div", { class: "charts", "aria-live": "off" });
    const side = h("div", { class: "dashboard-side" });
    const words = h("div", { class: "dashboard-words" });
    const status = h(
      "p",
      { class: "lead", id: "range-text" },
      `${describeRange(range)} · ${RESOLUTION_TEXT[range.resolution]} · ${range.tz}`,
    );

    const charted = ctx.run("Loading your charts…", async () => {
      const [series, sleep] = await Promise.all([readSeries(ctx.api, range, ctx.signal), readSleep(ctx.api, range, ctx.signal)]);
      if (ctx.signal.aborted) return;
      const cards = metricCharts(series, range, ctx.signal);
      const hypnogram = sleepChart(sleep, range, ctx.signal);
      if (hypnogram !== null) cards.splice(Math.min(3, cards.length), 0, hypnogram);
      if (cards.length === 0) {
        const latest = await ctx.api.request<{ items: { localDate: string }[] }>(
          "GET",
          "/v1/observations/latest?metrics=heart_rate,steps,blood_glucose,weight,resting_heart_rate",
          { signal: ctx.signal },
        );
        const dates = latest.items.map((item) => item.localDate).sort();
        charts.replaceChildren(emptyState(dates.at(-1) ?? null, range));
        ctx.announce("No data in this period.");
        return;
      }
      charts.replaceChildren(...cards);
      ctx.announce(`${cards.length} ${cards.length === 1 ? "chart" : "charts"} shown.`);
    });
    // One store answers all of a person's reads in turn: the summary and the narrative (which may
    // compute over weeks of samples) are asked for once the charts' data has arrived, so they never
    // hold up the first chart.
    void charted.then(() => {
      if (ctx.signal.aborted) return;
      void ctx.run("Loading the summary…", async () => {
        const summary = await readSummary(ctx.api, range, ctx.signal);
        if (!ctx.signal.aborted) side.replaceChildren(summaryCards(summary));
      });
      void ctx.run("Loading the narrative…", async () => {
        const narrative = await readNarrative(ctx.api, range, ctx.signal);
        if (!ctx.signal.aborted) words.replaceChildren(narrativeCard(narrative) ?? "");
      });
    });

    return h("section", { class: "dashboard" }, h("h1", {}, "Dashboard"), status, picker(ctx, range), side, charts, words);
  },
};
export default dashboard;
