/**
 * Dependency checks behind GET /health: D1 answers a query and R2 answers a HEAD, each within a
 * deadline so a hung dependency turns into a failed check instead of a hung probe.
 */
export type CheckStatus = "ok" | "fail";

export interface CheckResult {
  status: CheckStatus;
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: "ok" | "fail";
  checks: Record<"d1" | "r2", CheckResult>;
}

const CHECK_TIMEOUT_MS = 2_000;

async function timed(run: () => Promise<unknown>): Promise<CheckResult> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: "ok", latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    // Only a coarse reason: the check's own error text could carry connection details.
    const reason = error instanceof Error && error.message === "timed out" ? "timeout" : "unavailable";
    return { status: "fail", latencyMs: Math.round(performance.now() - started), error: reason };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

export async function checkHealth(deps: { db: D1Database; lake: R2Bucket }): Promise<HealthReport> {
  const [d1, r2] = await Promise.all([
    timed(() => deps.db.prepare("SELECT 1 AS ok").first()),
    timed(() => deps.lake.head("health/probe")),
  ]);
  return { status: d1.status === "ok" && r2.status === "ok" ? "ok" : "fail", checks: { d1, r2 } };
}
