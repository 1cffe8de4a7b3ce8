// CPU profiles of workerd's isolates while a bench part runs (`npm run bench -- --only ingest
// --profile`), through the V8 inspector workerd exposes on loopback. Wall-clock timers inside a
// Worker only move on I/O, so they cannot say where CPU goes; sampling profiles can. Local workerd
// runs every isolate on one thread: the Worker with its Durable Objects (`core:user:<name>`), and
// Miniflare's D1, R2 and queue broker each in their own, so each gets its own profile.
//
// The report: CPU per isolate, and for the Worker's isolate the CPU per original source file (the
// bundle's source map) and the hottest functions. Native work (SQLite, crypto, structured clone)
// is counted against the JavaScript function that called it.
import { readFileSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";

const SAMPLING_INTERVAL_US = 500;

class Inspector {
  #socket;
  #next = 1;
  #pending = new Map();

  static async connect(url) {
    const inspector = new Inspector();
    inspector.#socket = new WebSocket(url);
    await new Promise((resolvePromise, reject) => {
      inspector.#socket.addEventListener("open", resolvePromise, { once: true });
      inspector.#socket.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    inspector.#socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      const waiting = inspector.#pending.get(message.id);
      if (waiting === undefined) return;
      inspector.#pending.delete(message.id);
      if (message.error) waiting.reject(new Error(`${waiting.method}: ${message.error.message}`));
      else waiting.resolve(message.result);
    });
    return inspector;
  }

  send(method, params = {}) {
    const id = this.#next++;
    return new Promise((resolvePromise, reject) => {
      this.#pending.set(id, { resolve: resolvePromise, reject, method });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close() {
    this.#socket.close();
  }
}

/**
 * Starts sampling every isolate whose inspector id starts with one of `prefixes`; `stop()` returns
 * `{ target: profile }`.
 */
export async function startProfiles(inspectorUrl, prefixes) {
  const base = new URL(inspectorUrl);
  base.protocol = "http:";
  const targets = (await (await fetch(new URL("/json/list", base))).json()).filter((t) =>
    prefixes.some((p) => t.id.startsWith(p)),
  );
  const sessions = await Promise.all(
    targets.map(async (target) => {
      const inspector = await Inspector.connect(target.webSocketDebuggerUrl);
      await inspector.send("Profiler.enable");
      await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
      await inspector.send("Profiler.start");
      return { id: target.id, inspector };
    }),
  );
  return {
    async stop() {
      const profiles = {};
      for (const { id, inspector } of sessions) {
        profiles[id] = (await inspector.send("Profiler.stop")).profile;
        inspector.close();
      }
      return profiles;
    },
  };
}

/**
 * Milliseconds per sample. V8 samples an isolate only while it is the one running on workerd's
 * thread, so time deltas between samples include the other isolates' turns; the number of samples
 * times the sampling period is what each isolate itself used. The period is measured, not assumed
 * (the median delta of the busiest isolate).
 */
function samplePeriodMs(profiles) {
  const busiest = Object.values(profiles).sort((a, b) => b.samples.length - a.samples.length)[0];
  const deltas = [...(busiest?.timeDeltas ?? [])].sort((a, b) => a - b);
  return (deltas[Math.floor(deltas.length / 2)] ?? SAMPLING_INTERVAL_US) / 1000;
}

/** Self time (ms) per profile node. */
function selfTimes(profile, periodMs) {
  const self = new Map();
  for (const nodeId of profile.samples) self.set(nodeId, (self.get(nodeId) ?? 0) + periodMs);
  return self;
}

const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/** CPU (ms) an isolate used: every sample but (idle), and its garbage collection. */
function busy(profile, periodMs) {
  const self = selfTimes(profile, periodMs);
  let total = 0;
  let gc = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (node.callFrame.functionName === "(idle)") continue;
    total += ms;
    if (node.callFrame.functionName === "(garbage collector)") gc += ms;
  }
  return { total, gc };
}

function sourceMapOf(bundlePath) {
  try {
    return new SourceMap(JSON.parse(readFileSync(`${bundlePath}.map`, "utf8")));
  } catch {
    return undefined;
  }
}

/** Where a frame comes from: the original file (via the source map), else the bundle or "native". */
function origin(callFrame, map, bundleName) {
  if (SPECIAL.has(callFrame.functionName)) return callFrame.functionName;
  if (!callFrame.url) return "(native)";
  if (map && callFrame.url.endsWith(bundleName)) {
    const entry = map.findEntry(callFrame.lineNumber, callFrame.columnNumber);
    const source = entry?.originalSource;
    if (source) {
      const tail = source.split("node_modules/").at(-1) ?? source;
      // drizzle-orm's own source maps name its files `src/…` without the package.
      if (tail.startsWith("src/")) return "node_modules/drizzle-orm";
      if (source.includes("node_modules/"))
        return `node_modules/${tail
          .split("/")
          .slice(0, tail.startsWith("@") ? 2 : 1)
          .join("/")}`;
      return source.replace(/^.*?\/(src|durable-objects|bench)\//, "$1/");
    }
  }
  return callFrame.url.split("/").at(-1) || "(bundle)";
}

/**
 * A readable summary: CPU per isolate, then for `focus` (the Worker's isolate) CPU per source file
 * and the hottest functions, each with its share.
 */
export function summarizeProfiles(profiles, { focus, bundlePath, processCpuMs, top = 12 }) {
  const lines = [];
  const periodMs = samplePeriodMs(profiles);
  const isolates = Object.entries(profiles).map(([id, profile]) => ({ id, ...busy(profile, periodMs) }));
  isolates.sort((a, b) => b.total - a.total);
  lines.push("CPU per isolate (ms, of which GC):");
  for (const { id, total, gc } of isolates.filter((isolate) => isolate.total >= 1))
    lines.push(`  ${id.padEnd(36)} ${total.toFixed(0).padStart(7)} ms  (GC ${gc.toFixed(0)} ms)`);
  if (processCpuMs !== undefined) {
    const inIsolates = isolates.reduce((sum, isolate) => sum + isolate.total, 0);
    lines.push(
      `  workerd process CPU (/proc) ${processCpuMs.toFixed(0)} ms: ${(processCpuMs - inIsolates).toFixed(0)} ms outside any ` +
        "JavaScript (HTTP between services, storage I/O, the event loop)",
    );
  }

  const profile = profiles[focus];
  if (profile === undefined) return lines.join("\n");
  const map = bundlePath ? sourceMapOf(bundlePath) : undefined;
  const bundleName = bundlePath?.split("/").at(-1) ?? "";
  const self = selfTimes(profile, periodMs);
  const byFile = new Map();
  const byFunction = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (ms === 0 || node.callFrame.functionName === "(idle)") continue;
    total += ms;
    const file = origin(node.callFrame, map, bundleName);
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
    const name = `${node.callFrame.functionName || "(anonymous)"} [${file}]`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  const share = (ms) => `${ms.toFixed(0).padStart(6)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%`;
  lines.push(`${focus}: self time by source file (native calls counted as "(native)" or their caller):`);
  for (const [file, ms] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${share(ms)}  ${file}`);
  lines.push(`${focus}: hottest functions (self time):`);
  for (const [name, ms] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${share(ms)}  ${name}`);
  return lines.join("\n");
}

export function saveProfiles(profiles, pathPrefix) {
  const files = [];
  for (const [id, profile] of Object.entries(profiles)) {
    const file = `${pathPrefix}-${id.replace(/[^a-z0-9-]+/gi, "_")}.cpuprofile`;
    writeFileSync(file, JSON.stringify(profile));
    files.push(file);
  }
  return files;
}
