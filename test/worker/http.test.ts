import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const BASE = "http://localhost";

describe("/health", () => {
  it("answers ok when D1 and R2 answer", async () => {
    const res = await exports.default.fetch(`${BASE}/health`);
    expect(res.status).toBe(200);
    const body = await res.json<{ status: string; checks: Record<string, { status: string }> }>();
    expect(body.status).toBe("ok");
    expect(body.checks.d1?.status).toBe("ok");
    expect(body.checks.r2?.status).toBe("ok");
  });
});
