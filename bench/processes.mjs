// The workerd processes this bench started, found through Linux /proc: their CPU time, and a way
// to stop them synchronously when the bench is interrupted. Throughput alone mixes CPU cost with
// waiting (a Durable Object round trip costs latency, not CPU), so the bench reports workerd CPU
// per request beside it. Client CPU is not counted: the client is the same for every route.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

function clockTicksPerSecond() {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Fields of /proc/<pid>/stat after the `(comm)` field, which may itself contain spaces. */
function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  const close = text.lastIndexOf(")");
  return { comm: text.slice(text.indexOf("(") + 1, close), rest: text.slice(close + 2).split(" ") };
}

/** Process ids of this process's workerd children; empty where /proc is not available. */
export function workerdChildren() {
  let pids;
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return pids.filter((pid) => {
    try {
      const { comm, rest } = statFields(pid);
      // rest[1] is the parent pid (field 4 of proc(5)).
      return comm === "workerd" && Number(rest[1]) === process.pid;
    } catch {
      return false; // exited while scanning
    }
  });
}

/**
 * Stops workerd children by pid, synchronously: usable from an `exit` listener, where Miniflare's
 * own asynchronous dispose would never get to run.
 */
export function killWorkerdChildren() {
  for (const pid of workerdChildren()) {
    try {
      process.kill(Number(pid), "SIGTERM");
    } catch {
      // already gone
    }
  }
}

/**
 * Returns a function giving the cumulative CPU milliseconds (user + system) of this process's
 * workerd children, or `undefined` where /proc is not available (the bench then prints n/a).
 */
export function workerdCpuMeter() {
  const children = workerdChildren();
  if (children.length === 0) return undefined;
  const msPerTick = 1000 / clockTicksPerSecond();
  return () =>
    children.reduce((sum, pid) => {
      // utime and stime are fields 14 and 15 of proc(5): rest[11] and rest[12].
      const { rest } = statFields(pid);
      return sum + (Number(rest[11]) + Number(rest[12])) * msPerTick;
    }, 0);
}
