import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTestApp } from "./helpers/test-app";

const BASE = "http://localhost";
/** A production configuration that passes the startup check: https origins, a real RP ID and issuer. */
const PRODUCTION = {
  ENVIRONMENT: "production",
  CORS_ORIGINS: "https://app.example.com",
  RP_ID: "example.com",
  JWT_ISSUER: "https://api.example.com",
  ENABLE_SANDBOX_PROVIDER: "false",
} as const;
const app = createTestApp();

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  requestId: string;
  errors?: { path: string; message: string }[];
}

async function problem(res: Response): Promise<Problem> {
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const body = await res.json<Problem>();
  expect(body.requestId).toBe(res.headers.get("X-Request-Id"));
  expect(body.status).toBe(res.status);
  return body;
}

describe("request ids", () => {
  it("generates one when the caller sends none", async () => {
    const res = await exports.default.fetch(`${BASE}/health`);
    expect(res.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("echoes a valid incoming id and replaces an invalid one", async () => {
    const echoed = await exports.default.fetch(`${BASE}/health`, { headers: { "X-Request-Id": "client-req-12345" } });
    expect(echoed.headers.get("X-Request-Id")).toBe("client-req-12345");
    const replaced = await exports.default.fetch(`${BASE}/health`, { headers: { "X-Request-Id": "bad id <script>" } });
    expect(replaced.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("unknown routes and methods", () => {
  it("answers 404 problem+json for an unknown path", async () => {
    const res = await exports.default.fetch(`${BASE}/v1/nothing-here`);
    expect(res.status).toBe(404);
    const body = await problem(res);
    expect(body.code).toBe("NOT_FOUND");
    expect(body.instance).toBe("/v1/nothing-here");
    expect(body.type).toMatch(/^https:\/\//);
  });

  it("answers 405 with Allow for a wrong method on a known path", async () => {
    const res = await exports.default.fetch(`${BASE}/health`, { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
    expect((await problem(res)).code).toBe("METHOD_NOT_ALLOWED");
  });

  it("serves HEAD for GET routes without a body", async () => {
    const res = await exports.default.fetch(`${BASE}/health`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });
});

describe("security headers", () => {
  it("are on successful and error responses alike", async () => {
    for (const path of ["/health", "/v1/nothing-here"]) {
      const res = await exports.default.fetch(`${BASE}${path}`);
      expect(res.headers.get("Strict-Transport-Security")).toContain("max-age=");
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("X-Frame-Options")).toBe("DENY");
      expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
      expect(res.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
      expect(res.headers.get("Cross-Origin-Opener-Policy")).toBe("same-origin");
      expect(res.headers.get("Cross-Origin-Resource-Policy")).toBe("same-origin");
      expect(res.headers.get("Cache-Control")).toBe("no-store");
    }
  });
});

describe("CORS", () => {
  it("allows a listed origin with credentials", async () => {
    const res = await call(app, "/health", { headers: { Origin: "https://app.example.com" } }, PRODUCTION);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBe("true");
  });

  it("gives an unlisted origin no CORS headers", async () => {
    const res = await call(app, "/health", { headers: { Origin: "https://evil.example" } }, PRODUCTION);
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("answers a preflight from an allowed origin", async () => {
    const res = await call(
      app,
      "/v1/test/echo",
      {
        method: "OPTIONS",
        headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "POST" },
      },
      PRODUCTION,
    );
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    expect(res.headers.get("Access-Control-Allow-Methods")).toContain("POST");
  });

  it("accepts any localhost port outside production only", async () => {
    const origin = "http://localhost:5173";
    const dev = await call(app, "/health", { headers: { Origin: origin } }, { ENVIRONMENT: "development" });
    expect(dev.headers.get("Access-Control-Allow-Origin")).toBe(origin);
    const prod = await call(app, "/health", { headers: { Origin: origin } }, PRODUCTION);
    expect(prod.status).toBe(200);
    expect(prod.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

describe("request bodies", () => {
  const json = (body: string, headers: Record<string, string> = {}) => ({
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body,
  });

  it("accepts a valid JSON body", async () => {
    const res = await call(app, "/v1/test/echo", json(JSON.stringify({ name: "Ada", age: 36 })));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: "Ada", age: 36 });
  });

  it("answers 400 MALFORMED_JSON for unparsable JSON", async () => {
    const res = await call(app, "/v1/test/echo", json('{"name": "Ada",'));
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe("MALFORMED_JSON");
  });

  it("reports every validation issue with its path", async () => {
    const res = await call(app, "/v1/test/echo", json(JSON.stringify({ name: "", age: -1, tags: [1], extra: true })));
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.code).toBe("VALIDATION_FAILED");
    const paths = (body.errors ?? []).map((e) => e.path).sort();
    expect(paths).toEqual(["age", "extra", "name", "tags.0"]);
  });

  it("answers 415 for a body that is not JSON", async () => {
    const res = await call(app, "/v1/test/echo", { method: "POST", headers: { "Content-Type": "text/plain" }, body: "hello" });
    expect(res.status).toBe(415);
    expect((await problem(res)).code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers 413 when Content-Length exceeds the limit", async () => {
    const res = await call(app, "/v1/test/echo", json(JSON.stringify({ name: "x".repeat(2048), age: 1 })), {
      MAX_JSON_BODY_BYTES: "1024",
    });
    expect(res.status).toBe(413);
    expect((await problem(res)).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("answers 413 for a chunked body that grows past the limit", async () => {
    const chunk = new TextEncoder().encode(`{"name":"${"x".repeat(800)}`);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await call(
      app,
      "/v1/test/echo",
      { method: "POST", headers: { "Content-Type": "application/json" }, body: stream, duplex: "half" } as RequestInit,
      { MAX_JSON_BODY_BYTES: "1024" },
    );
    expect(res.status).toBe(413);
  });
});

describe("unexpected errors", () => {
  it("answer 500 without internal detail", async () => {
    const res = await call(app, "/v1/test/boom");
    expect(res.status).toBe(500);
    const text = await res.clone().text();
    expect(text).not.toContain("hunter2");
    const body = await problem(res);
    expect(body.code).toBe("INTERNAL");
  });
});

describe("unknown parameters", () => {
  it("names each unknown field instead of the body as a whole", async () => {
    const echo = await call(app, "/v1/test/echo", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Ada", age: 3, tags: [], colour: "red", size: 2 }),
    });
    const body = await problem(echo);
    expect((body.errors ?? []).map((e) => e.path).sort()).toEqual(["colour", "size"]);
  });
});
