import { afterEach, describe, expect, it, vi } from "vitest";
import { call, createTestApp } from "./helpers/test-app";

describe("access log", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes one JSON line per request with the route pattern and no body, query or headers", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const res = await call(createTestApp(), "/v1/test/echo?token=abc123", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: "Bearer secret-token-value",
        "X-Request-Id": "req-log-test-1",
      },
      body: JSON.stringify({ name: "Glucose 287 mg/dL", age: 3 }),
    });
    expect(res.status).toBe(200);
    const requestLines = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((e) => e.msg === "request");
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      level: "info",
      method: "POST",
      route: "/v1/test/echo",
      status: 200,
      requestId: "req-log-test-1",
      userId: null,
    });
    expect(typeof requestLines[0]?.durationMs).toBe("number");
    const all = lines.join("\n");
    for (const secret of ["abc123", "secret-token-value", "Glucose", "287"]) expect(all).not.toContain(secret);
  });
});
