import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getDb } from "../../src/db/client";
import { uploads } from "../../src/db/schema";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";
import { postFile } from "./helpers/upload-api";
import { heartRateFile } from "./helpers/upload-files";

/**
 * Request bodies as hostile or unlucky clients send them: cut off mid-way, not UTF-8, or sent to an
 * authenticated route without credentials (which must learn nothing but 401, and cost no reading).
 */
const app = createTestApp();

interface LogLines {
  info: Record<string, unknown>[];
  errors: string[];
}

function captureLogs(): LogLines {
  const lines: LogLines = { info: [], errors: [] };
  vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    lines.info.push(JSON.parse(String(line)) as Record<string, unknown>);
  });
  vi.spyOn(console, "error").mockImplementation((line: unknown) => {
    lines.errors.push(String(line));
  });
  return lines;
}

/** Sends `head`, then fails the way a dropped connection fails a request body. */
function cutOff(head: Uint8Array): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) controller.error(new TypeError("Network connection lost."));
      else controller.enqueue(head);
      sent = true;
    },
  });
}

/** A body that counts how often it is read; highWaterMark 0 so nothing is pulled ahead of a reader. */
function countedBody(bytes: number): { stream: ReadableStream<Uint8Array>; pulls: () => number } {
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulls++;
        controller.enqueue(new Uint8Array(bytes));
        controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulls: () => pulls };
}

afterEach(() => vi.restoreAllMocks());

describe("a client that disconnects mid-body", () => {
  it("is logged at info as client_closed during an upload, never as an error or a 500", async () => {
    const user = await createSessionUser();
    // Several blocks, cut off after the first ones: the R2 write has begun when the client goes.
    const file = await heartRateFile(50, { prefix: crypto.randomUUID(), blockRecords: 10 });
    const logs = captureLogs();
    const res = await postFile(app, user, cutOff(file.subarray(0, Math.floor(file.byteLength * 0.8))));
    expect(res.status).not.toBe(500);
    expect(logs.errors).toEqual([]);
    expect(logs.info).toContainEqual(expect.objectContaining({ level: "info", msg: "client_closed", route: "/v1/uploads" }));
    const request = logs.info.find((line) => line.msg === "request");
    expect(request).toMatchObject({ level: "info", route: "/v1/uploads" });
    expect(request?.status).toBeLessThan(500);
    // Nothing half-written: no raw object, no upload row.
    expect((await env.LAKE.list({ prefix: `raw/${user.user.id}/` })).objects).toEqual([]);
    expect(await getDb(env.DB).select().from(uploads).where(eq(uploads.userId, user.user.id))).toEqual([]);
  });

  it("is logged at info as client_closed on a JSON route too", async () => {
    const logs = captureLogs();
    const res = await call(app, "/v1/test/echo", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: cutOff(new TextEncoder().encode('{"name":"Ada",')),
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(400);
    expect(logs.errors).toEqual([]);
    expect(logs.info).toContainEqual(expect.objectContaining({ level: "info", msg: "client_closed" }));
  });
});

describe("invalid UTF-8 in a JSON body", () => {
  // 0xC3 opens a two-byte sequence; 0x28 ("(") cannot continue it (RFC 3629 §3).
  const invalid = (before: string, after: string) =>
    new Uint8Array([...new TextEncoder().encode(before), 0xc3, 0x28, ...new TextEncoder().encode(after)]);

  it("is refused with 400 MALFORMED_JSON on a public route, not replaced by U+FFFD", async () => {
    const res = await call(app, "/v1/auth/login/options", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: invalid('{"username":"ad', 'a"}'),
    });
    await expectProblem(res, 400, "MALFORMED_JSON");
  });

  it("is refused with 400 MALFORMED_JSON on an authenticated route and nothing is stored", async () => {
    const user = await createSessionUser();
    const put = (body: Uint8Array) =>
      call(app, "/v1/vault/note-utf8", {
        method: "PUT",
        headers: { ...user.headers, "Content-Type": "application/json" },
        body,
      });
    await expectProblem(await put(invalid('{"version":2,"note":"ab', 'c"}')), 400, "MALFORMED_JSON");
    expect((await call(app, "/v1/vault/note-utf8", { headers: user.headers })).status).toBe(404);
    // Valid multi-byte UTF-8 is stored as sent.
    expect((await put(new TextEncoder().encode('{"version":2,"note":"Zoë"}'))).status).toBe(201);
    const stored = await call(app, "/v1/vault/note-utf8", { headers: user.headers });
    expect(await stored.json()).toEqual({ version: 2, note: "Zoë" });
  });
});

describe("authentication comes before the body on authenticated routes", () => {
  it("POST /v1/uploads without credentials and a wrong content type: 401, body unread", async () => {
    const body = countedBody(16);
    const res = await call(app, "/v1/uploads", {
      method: "POST",
      headers: { "Content-Type": "text/csv" },
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    await expectProblem(res, 401, "UNAUTHENTICATED");
    expect(body.pulls()).toBe(0);
  });

  it("POST /v1/uploads without credentials and a 60 MB Content-Length: 401, body unread", async () => {
    const body = countedBody(16);
    const res = await call(app, "/v1/uploads", {
      method: "POST",
      headers: { "Content-Type": "application/avro", "Content-Length": String(60 * 1024 * 1024) },
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    await expectProblem(res, 401, "UNAUTHENTICATED");
    expect(body.pulls()).toBe(0);
  });

  it("POST /v1/uploads with a bad token and a wrong content type: 401", async () => {
    const res = await call(app, "/v1/uploads", {
      method: "POST",
      headers: { Authorization: "Bearer not-a-token", "Content-Type": "text/csv" },
      body: "a,b",
    });
    await expectProblem(res, 401, "UNAUTHENTICATED");
  });

  it("JSON routes: no credentials with a wrong type or an oversized body is 401", async () => {
    const wrongType = await call(app, "/v1/me/devices", { method: "POST", headers: { "Content-Type": "text/plain" }, body: "x" });
    await expectProblem(wrongType, 401, "UNAUTHENTICATED");
    const body = countedBody(16);
    const huge = await call(app, "/v1/vault/note-1", {
      method: "PUT",
      headers: { "Content-Type": "application/json", "Content-Length": String(10 * 1024 * 1024) },
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    await expectProblem(huge, 401, "UNAUTHENTICATED");
    expect(body.pulls()).toBe(0);
  });

  it("every authenticated route with a body method answers 401 first, and reads nothing", async () => {
    type Operation = { security?: Record<string, string[]>[] };
    const doc = await (await call(app, "/openapi.json")).json<{ paths: Record<string, Record<string, Operation>> }>();
    const routes = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([method, op]) => ["post", "put", "patch", "delete"].includes(method) && (op.security?.length ?? 0) > 0)
        .map(([method]) => ({ method: method.toUpperCase(), path: path.replaceAll(/\{[^}]+\}/g, "x1") })),
    );
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      const body = countedBody(16);
      const res = await call(app, route.path, {
        method: route.method,
        headers: { "Content-Type": "text/csv", "Content-Length": String(60 * 1024 * 1024) },
        body: body.stream,
        duplex: "half",
      } as RequestInit);
      expect({ ...route, status: res.status, pulls: body.pulls() }).toEqual({ ...route, status: 401, pulls: 0 });
    }
  });

  it("still answers 415 and 413 once the caller is authenticated", async () => {
    const user = await createSessionUser();
    await expectProblem(await postFile(app, user, "a,b", { contentType: "text/csv" }), 415, "UNSUPPORTED_MEDIA_TYPE");
    const declared = await postFile(app, user, new Uint8Array(16), { headers: { "Content-Length": String(60 * 1024 * 1024) } });
    await expectProblem(declared, 413, "PAYLOAD_TOO_LARGE");
    const json = await call(app, "/v1/me/devices", {
      method: "POST",
      headers: { ...user.headers, "Content-Type": "text/plain" },
      body: "x",
    });
    await expectProblem(json, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("public routes keep answering 415 and 413 before anything else", async () => {
    const wrongType = await call(app, "/v1/auth/login/options", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "x",
    });
    await expectProblem(wrongType, 415, "UNSUPPORTED_MEDIA_TYPE");
    const huge = await call(
      app,
      "/v1/auth/login/options",
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: "x".repeat(2048) }) },
      { MAX_JSON_BODY_BYTES: "1024" },
    );
    await expectProblem(huge, 413, "PAYLOAD_TOO_LARGE");
  });
});
