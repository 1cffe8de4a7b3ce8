#!/usr/bin/env node
// Cost per person against the number of people, from the load harness's results
// (bench/results/load-<N>.json, written by `npm run load -- --users N`): workerd CPU, D1 writes and
// reads, queue messages, R2 operations and Durable Object requests per person, each relative to
// its value at N = 10, on a log axis of N. Flat is the goal; the 1.5x line is the target.
// Hand-written SVG, no dependency.
//
// Usage: node bench/plot-load.mjs [--before] [--out docs/scale-cost-per-user.svg]
// (--before reads the load-<N>-before.json files). Needs N = 10 and at least one of N = 100, 1000.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: options } = parseArgs({
  options: { before: { type: "boolean", default: false }, out: { type: "string", default: "docs/scale-cost-per-user.svg" } },
});
const suffix = options.before ? "-before" : "";
const SIZES = [10, 100, 1000];
const TARGET = 1.5;

const SERIES = [
  { label: "workerd CPU ms", color: "#1f77b4", pick: (r) => r.cpuMsPerUser },
  { label: "D1 writes", color: "#d62728", pick: (r) => r.perUserDay.d1Writes },
  { label: "D1 reads", color: "#ff7f0e", pick: (r) => r.perUserDay.d1Reads },
  { label: "queue messages", color: "#2ca02c", pick: (r) => r.perUserDay.queueMessages },
  { label: "R2 operations", color: "#9467bd", pick: (r) => r.perUserDay.r2ClassA + r.perUserDay.r2ClassB },
  { label: "Durable Object requests", color: "#8c564b", pick: (r) => r.perUserDay.durableObjectRequests },
];

const results = new Map();
for (const n of SIZES) {
  const file = join(root, "bench", "results", `load-${n}${suffix}.json`);
  if (existsSync(file)) results.set(n, JSON.parse(readFileSync(file, "utf8")));
}
if (!results.has(10) || results.size < 2) {
  console.error(
    `plot-load needs bench/results/load-10${suffix}.json and load-100 or load-1000: run \`npm run load -- --users N\` first.`,
  );
  process.exit(2);
}

const sizes = SIZES.filter((n) => results.has(n));
const base = results.get(10);
const lines = SERIES.map((series) => {
  const at10 = series.pick(base);
  const points = sizes.map((n) => ({ n, ratio: at10 > 0 ? series.pick(results.get(n)) / at10 : Number.NaN }));
  return { ...series, at10, points: points.filter((p) => Number.isFinite(p.ratio)) };
});

// Geometry: plot area, log10 x from 10 to 1000, linear y from 0 to a round top above every point.
const width = 760;
const height = 460;
const margin = { left: 70, right: 250, top: 50, bottom: 60 };
const plotW = width - margin.left - margin.right;
const plotH = height - margin.top - margin.bottom;
const highest = Math.max(2, ...lines.flatMap((l) => l.points.map((p) => p.ratio)));
const yMax = Math.ceil(highest * 2) / 2;
const x = (n) => margin.left + ((Math.log10(n) - 1) / 2) * plotW;
const y = (ratio) => margin.top + plotH - (ratio / yMax) * plotH;
const esc = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const svg = [];
svg.push(
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
  `<title>Cost per person against the number of simulated people, relative to N = 10${options.before ? ", before the scale changes" : ""}</title>`,
  `<rect width="${width}" height="${height}" fill="#fff"/>`,
  `<text x="${margin.left}" y="24" font-size="15" font-weight="600">Cost per person against N (relative to N = 10): flat is the goal${options.before ? " (before)" : ""}</text>`,
);
// Grid and y axis.
const yStep = yMax <= 3 ? 0.5 : 1;
for (let v = 0; v <= yMax + 1e-9; v += yStep) {
  svg.push(
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`,
    `<text x="${margin.left - 8}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}×</text>`,
  );
}
for (const n of SIZES) {
  svg.push(
    `<line x1="${x(n)}" x2="${x(n)}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#e5e5e5"/>`,
    `<text x="${x(n)}" y="${margin.top + plotH + 18}" text-anchor="middle">${n.toLocaleString("en")}</text>`,
  );
}
svg.push(
  `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333"/>`,
  `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#333"/>`,
  `<text x="${margin.left + plotW / 2}" y="${height - 16}" text-anchor="middle">N, simulated people in one run (log scale)</text>`,
  `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">per person, relative to N = 10</text>`,
  // The 1.5x target and the flat line.
  `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(TARGET)}" y2="${y(TARGET)}" stroke="#d62728" stroke-dasharray="6 4" stroke-width="1.5"/>`,
  `<text x="${margin.left + plotW - 4}" y="${y(TARGET) - 6}" text-anchor="end" fill="#d62728">1.5× target</text>`,
  `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(1)}" y2="${y(1)}" stroke="#999" stroke-width="1"/>`,
);
for (const line of lines) {
  if (line.points.length === 0) continue;
  const path = line.points.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.n).toFixed(1)},${y(p.ratio).toFixed(1)}`).join(" ");
  svg.push(`<path d="${path}" fill="none" stroke="${line.color}" stroke-width="2"/>`);
  for (const p of line.points) {
    svg.push(
      `<circle cx="${x(p.n).toFixed(1)}" cy="${y(p.ratio).toFixed(1)}" r="3.5" fill="${line.color}"><title>${esc(line.label)} at N=${p.n}: ${p.ratio.toFixed(2)}×</title></circle>`,
    );
  }
}
// Legend, with each series' value at N = 10.
const legendX = margin.left + plotW + 20;
svg.push(`<text x="${legendX}" y="${margin.top + 4}" font-weight="600">per person (value at N = 10)</text>`);
lines.forEach((line, i) => {
  const ly = margin.top + 26 + i * 22;
  const value = line.at10 > 0 ? line.at10.toFixed(line.at10 < 10 ? 2 : 0) : "0: not plotted";
  svg.push(
    `<line x1="${legendX}" x2="${legendX + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${line.color}" stroke-width="2"/>`,
    `<text x="${legendX + 28}" y="${ly}">${esc(line.label)} (${esc(value)})</text>`,
  );
});
const notes = [
  ...sizes.map((n) => `N = ${n.toLocaleString("en")}: revision ${results.get(n).gitRevision}`),
  `${base.machine?.cpus ?? "?"} CPUs, one local workerd`,
  "lines that stay at 1.0× overlap",
];
notes.forEach((note, i) => {
  svg.push(
    `<text x="${legendX}" y="${margin.top + 42 + (lines.length + i) * 22 - 6 * i}" fill="#666" font-size="11">${esc(note)}</text>`,
  );
});
svg.push("</svg>");

const out = resolve(root, options.out);
writeFileSync(out, `${svg.join("\n")}\n`);
console.log(`wrote ${out} (N = ${sizes.join(", ")})`);
