/**
 * One chart card: a heading with the unit, the uPlot canvas (hidden from assistive technology), a
 * key, a text alternative that states the period, mean, range and latest value of each series,
 * and the plotted values themselves in a table behind "Show the data" — built from the very
 * arrays handed to uPlot, so what a screen reader (or a test) reads is what was drawn.
 */
import uPlot from "uplot";
import uPlotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import { h } from "../../dom.ts";
import type { Point } from "./data.ts";

// uPlot's own stylesheet travels in this chunk as text and is adopted as a constructed sheet
// (CSSOM, which the CSP's style-src allows), so pages that never show a chart never load it: a
// stylesheet imported the usual way would land in a CSS file of its own that no page links.
const uPlotSheet = new CSSStyleSheet();
uPlotSheet.replaceSync(uPlotCss);
if (!document.adoptedStyleSheets.includes(uPlotSheet)) document.adoptedStyleSheets = [...document.adoptedStyleSheets, uPlotSheet];

export type LineKind = "line" | "bars" | "points";

export interface Line {
  label: string;
  unit: string;
  points: Point[];
  /** A CSS custom property of the dashboard's palette (style.css), e.g. "--chart-1". */
  color: string;
  kind?: LineKind;
}

export interface ChartSpec {
  /** The metric code, kept on the figure (`data-chart`) for styles and tests. */
  id: string;
  title: string;
  /** The y axis label, unit included: "bpm". */
  axis: string;
  lines: Line[];
  /** A shaded target band, e.g. glucose 70–180 mg/dL. */
  band?: { low: number; high: number; color: string };
  /** Sentences shown first in the text alternative (time in range, …). */
  notes?: string[];
  /** What a table row's time is: "Time", "Hour starting", "Day". */
  timeHeading: string;
  /** Formats a table cell's or the summary's time. */
  formatTime: (t: number) => string;
  /** Fixed y values and their names (a hypnogram's stages). */
  levels?: { value: number; name: string }[];
  /** Digits shown in the text alternative and table. */
  digits?: number;
  stepped?: boolean;
}

const HEIGHT = 220;
const LONE_POINT_PAD_S = 12 * 3600;
const SECOND = 1000;

function cssColor(element: Element, name: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim() || "#1f4fb5";
}

/** Rounds for reading aloud: "72.4", "8,412". */
export function formatNumber(value: number, digits = 1): string {
  return value.toLocaleString(undefined, { maximumFractionDigits: digits });
}

/** Every line's points on one shared, sorted time axis (uPlot's aligned data), gaps as null. */
export function align(lines: readonly Line[]): { xs: number[]; ys: (number | null)[][] } {
  const xs = [...new Set(lines.flatMap((line) => line.points.map((point) => point.t)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = lines.map((line) => {
    const column: (number | null)[] = new Array(xs.length).fill(null);
    // A non-finite value marks a deliberate gap (between two nights of a hypnogram).
    for (const point of line.points) column[index.get(point.t) ?? 0] = Number.isFinite(point.v) ? point.v : null;
    return column;
  });
  return { xs, ys };
}

function describeLine(line: Line, spec: ChartSpec): string {
  const points = line.points.filter((point) => Number.isFinite(point.v));
  const values = points.map((point) => point.v);
  const digits = spec.digits ?? 1;
  const first = points[0];
  const last = points.at(-1);
  if (first === undefined || last === undefined) return `${line.label}: no data.`;
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const unit = line.unit === "" ? "" : ` ${line.unit}`;
  const level = (value: number) => spec.levels?.find((candidate) => candidate.value === value)?.name;
  if (spec.levels !== undefined) {
    return `${line.label}: from ${spec.formatTime(first.t)} to ${spec.formatTime(last.t)}; last stage ${level(last.v) ?? "unknown"}.`;
  }
  return (
    `${line.label}: ${values.length.toLocaleString()} ${values.length === 1 ? "value" : "values"} from ${spec.formatTime(first.t)} ` +
    `to ${spec.formatTime(last.t)}; mean ${formatNumber(mean, digits)}${unit}, lowest ${formatNumber(Math.min(...values), digits)}, ` +
    `highest ${formatNumber(Math.max(...values), digits)}; latest ${formatNumber(last.v, digits)}${unit} at ${spec.formatTime(last.t)}.`
  );
}

/** The table of plotted values, built when first opened (a day of minute data is 1,440 rows). */
function dataTable(spec: ChartSpec, xs: number[], ys: (number | null)[][]): HTMLElement {
  const details = h("details", { class: "chart-data" }, h("summary", {}, `Show the data (${xs.length.toLocaleString()} rows)`));
  details.addEventListener(
    "toggle",
    () => {
      if (!details.open || details.querySelector("table") !== null) return;
      const digits = spec.digits ?? 1;
      const cell = (value: number | null) => {
        if (value === null) return "";
        const level = spec.levels?.find((candidate) => candidate.value === value);
        return level?.name ?? formatNumber(value, digits);
      };
      const body = h("tbody");
      const rows = xs.map((x, i) =>
        h("tr", {}, h("th", { scope: "row" }, spec.formatTime(x)), ...ys.map((column) => h("td", {}, cell(column[i] ?? null)))),
      );
      body.append(...rows);
      details.append(
        h(
          "div",
          // A scrolling box keyboard users can reach and scroll (WCAG 2.1.1), named for screen readers.
          { class: "table-scroll", tabindex: "0", role: "region", "aria-label": `${spec.title}: the plotted values` },
          h(
            "table",
            {},
            h("caption", {}, `${spec.title}: the plotted values`),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "col" }, spec.timeHeading),
                ...spec.lines.map((line) =>
                  h("th", { scope: "col" }, line.unit === "" ? line.label : `${line.label} (${line.unit})`),
                ),
              ),
            ),
            body,
          ),
        ),
      );
    },
    { once: false },
  );
  return details;
}

function pathsFor(kind: LineKind | undefined, stepped: boolean | undefined): uPlot.Series.PathBuilder | undefined {
  if (kind === "bars") return uPlot.paths.bars?.({ size: [0.7, 40] });
  if (stepped) return uPlot.paths.stepped?.({ align: 1 });
  return undefined;
}

/**
 * The chart card. The canvas is sized to its card and follows it (a phone turned sideways, a
 * window resized); `signal` ends the chart with the view.
 */
export function chartCard(spec: ChartSpec, signal: AbortSignal): HTMLElement {
  const { xs, ys } = align(spec.lines);
  const headingId = `chart-${spec.id}`;
  const plot = h("div", { class: "chart-plot", "aria-hidden": "true" });
  const key = h(
    "ul",
    { class: "chart-key" },
    ...spec.lines.map((line) => {
      const swatch = h("span", { class: `swatch ${line.kind ?? "line"}` });
      swatch.style.setProperty("--swatch", `var(${line.color})`);
      return h("li", {}, swatch, line.label);
    }),
  );
  const summary = h(
    "div",
    { class: "chart-summary" },
    ...(spec.notes ?? []).map((note) => h("p", { class: "chart-note" }, note)),
    ...spec.lines.map((line) => h("p", {}, describeLine(line, spec))),
  );
  const figure = h(
    "figure",
    {
      class: "chart",
      "data-chart": spec.id,
      "data-points": spec.lines.reduce((sum, line) => sum + line.points.filter((point) => Number.isFinite(point.v)).length, 0),
      "aria-labelledby": headingId,
    },
    plot,
    h("figcaption", {}, key, summary),
    dataTable(spec, xs, ys),
  );
  const card = h(
    "section",
    { class: "card chart-card", "aria-labelledby": headingId },
    h("h2", { id: headingId }, `${spec.title} (${spec.axis})`),
    figure,
  );

  // uPlot needs the card in the document to read its width and colours: drawn once attached.
  requestAnimationFrame(() => {
    if (signal.aborted || !card.isConnected) return;
    const text = cssColor(card, "--muted");
    const grid = cssColor(card, "--border");
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const yAxis: uPlot.Axis = { ...axis, size: 52 };
    if (spec.levels !== undefined) {
      const names = new Map(spec.levels.map((level) => [level.value, level.name]));
      yAxis.size = 70;
      yAxis.splits = () => spec.levels?.map((level) => level.value) ?? [];
      yAxis.values = (_u, splits) => splits.map((value) => names.get(value) ?? "");
    }
    const levelRange: uPlot.Range.MinMax | undefined =
      spec.levels === undefined
        ? undefined
        : [Math.min(...spec.levels.map((l) => l.value)) - 0.5, Math.max(...spec.levels.map((l) => l.value)) + 0.5];
    const band = spec.band;
    const options: uPlot.Options = {
      width: Math.max(200, plot.clientWidth),
      height: HEIGHT,
      legend: { show: false },
      cursor: { show: false },
      scales: {
        // One point alone (a single hourly bar) leaves uPlot no span and it draws years of axis:
        // give it half a day on each side instead.
        x: { time: true, range: (_u, min, max) => (min === max ? [min - LONE_POINT_PAD_S, max + LONE_POINT_PAD_S] : [min, max]) },
        y:
          levelRange !== undefined
            ? { range: levelRange }
            : {
                range: (_u, min, max) =>
                  rangeWith(
                    min,
                    max,
                    band,
                    spec.lines.some((line) => line.kind === "bars"),
                  ),
              },
      },
      axes: [axis, yAxis],
      series: [
        {},
        ...spec.lines.map((line): uPlot.Series => {
          const color = cssColor(card, line.color);
          const paths = pathsFor(line.kind, spec.stepped);
          return {
            label: line.label,
            stroke: color,
            width: line.kind === "points" ? 0 : 2,
            ...(line.kind === "bars" ? { fill: color } : {}),
            ...(paths === undefined ? {} : { paths }),
            spanGaps: line.kind !== "bars" && !spec.stepped,
            points: { show: line.kind === "points" || line.points.length <= 2, size: 7, fill: color, stroke: color },
          };
        }),
      ],
      hooks: {
        drawClear: [
          (u) => {
            if (band === undefined) return;
            // The target band under the series: from the scale's values to canvas pixels.
            const top = u.valToPos(band.high, "y", true);
            const bottom = u.valToPos(band.low, "y", true);
            u.ctx.save();
            u.ctx.fillStyle = cssColor(card, band.color);
            u.ctx.fillRect(u.bbox.left, top, u.bbox.width, bottom - top);
            u.ctx.restore();
          },
        ],
        draw: [() => figure.setAttribute("data-drawn", "true")],
      },
    };
    const chart = new uPlot(options, [xs.map((x) => x / SECOND), ...ys], plot);
    const resize = new ResizeObserver(() => {
      const width = Math.max(200, plot.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height: HEIGHT });
    });
    resize.observe(plot);
    signal.addEventListener("abort", () => {
      resize.disconnect();
      chart.destroy();
    });
  });
  return card;
}

/** The y scale: the data with a margin, the band included, bars from zero. */
function rangeWith(
  min: number | null,
  max: number | null,
  band: { low: number; high: number } | undefined,
  fromZero: boolean,
): uPlot.Range.MinMax {
  let low = min ?? 0;
  let high = max ?? 1;
  if (band !== undefined) {
    low = Math.min(low, band.low);
    high = Math.max(high, band.high);
  }
  if (fromZero) low = 0;
  const margin = Math.max((high - low) * 0.08, 1);
  return [fromZero ? 0 : Math.floor(low - margin), Math.ceil(high + margin)];
}
