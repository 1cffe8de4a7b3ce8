import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTestApp } from "./helpers/test-app";

// An outage is simulated by handing the app a binding that fails the way an unreachable D1/R2 does.
const downD1 = {
  prepare() {
    throw new Error("D1_ERROR: network connection lost (internal host 10.0.0.7)");
  },
} as unknown as D1Database;

const hungR2 = { head: () => new Promise<never>(() => undefined) } as unknown as R2Bucket;

interface HealthProblem {
  code: string;
  detail: string;
  checks: Record<string, { status: string; error?: string }>;
}

describe("GET /health", () => {
  it("answers 503 naming D1 when D1 is down, without its error text", async () => {
    const res = await call(createTestApp(), "/health", {}, { DB: downD1 });
    expect(res.status).toBe(503);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(res.headers.get("Retry-After")).toBe("30");
    const body = await res.json<HealthProblem>();
    expect(body.code).toBe("SERVICE_UNAVAILABLE");
    expect(body.detail).toBe("Failing checks: d1.");
    expect(body.checks.d1).toMatchObject({ status: "fail", error: "unavailable" });
    expect(body.checks.r2?.status).toBe("ok");
    expect(JSON.stringify(body)).not.toContain("10.0.0.7");
  });

  it("answers 503 naming R2 when R2 hangs, within the check deadline", async () => {
    const res = await call(createTestApp(), "/health", {}, { LAKE: hungR2 });
    expect(res.status).toBe(503);
    const body = await res.json<HealthProblem>();
    expect(body.checks.r2).toMatchObject({ status: "fail", error: "timeout" });
    expect(body.checks.d1?.status).toBe("ok");
  });

  it("uses the real bindings when everything is up", async () => {
    const res = await call(createTestApp(), "/health", {}, { DB: env.DB, LAKE: env.LAKE });
    expect(res.status).toBe(200);
  });
});
