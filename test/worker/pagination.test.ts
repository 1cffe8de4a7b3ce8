import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { prepareSession } from "../../src/auth/sessions";
import { getConfig } from "../../src/config/config";
import { getDb } from "../../src/db/client";
import { decodeCursor, encodeCursor } from "../../src/pagination/cursor";
import { observationInput } from "./helpers/observations";
import { createSessionUser, type SessionUser } from "./helpers/session-user";

/**
 * One cursor for every list: opaque, bound to its list and filters, and one answer for a cursor the
 * list did not issue (400 VALIDATION_FAILED on `cursor`).
 */
function get(user: SessionUser, path: string): Promise<Response> {
  return exports.default.fetch(`http://localhost${path}`, { headers: user.headers });
}

const T0 = Date.UTC(2026, 0, 15, 8);
const WINDOW = `since=${new Date(T0 - 3_600_000).toISOString()}&until=${new Date(T0 + 86_400_000).toISOString()}`;

const LISTS = [
  "/v1/uploads",
  "/v1/me/devices",
  "/v1/me/sessions",
  "/v1/vault",
  `/v1/observations?metrics=heart_rate&${WINDOW}`,
  `/v1/sleep?${WINDOW}`,
  `/v1/workouts?${WINDOW}`,
];

/** The user reading their own store, as the read routes would audit it. */
function asOwner(user: SessionUser) {
  return { actor: user.user.id, role: "patient", subject: user.user.id, reason: null, requestId: null, ip: null } as const;
}

async function expectBadCursor(res: Response): Promise<void> {
  expect(res.status).toBe(400);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const problem = await res.json<{ code: string; errors: { path: string }[] }>();
  expect(problem.code).toBe("VALIDATION_FAILED");
  expect(problem.errors).toEqual([expect.objectContaining({ path: "cursor" })]);
}

describe("page cursors", () => {
  it("answers every list's garbage, truncated or foreign cursor with the same 400 on cursor", async () => {
    const user = await createSessionUser();
    const foreign = encodeCursor("some-other-list", [1]);
    for (const path of LISTS) {
      const sep = path.includes("?") ? "&" : "?";
      for (const cursor of ["garbage", "%00", "eyJsIjoi", foreign, "a".repeat(300)]) {
        await expectBadCursor(await get(user, `${path}${sep}cursor=${cursor}`));
      }
    }
    const admin = await createSessionUser({ role: "admin" });
    await expectBadCursor(await get(admin, `/v1/admin/users?cursor=${foreign}`));
  });

  it("refuses a cursor replayed with other filters instead of skipping or repeating rows", async () => {
    const user = await createSessionUser();
    const rows = [0, 1, 2].flatMap((minute) => [
      observationInput("heart_rate", "bpm", T0 + minute * 60_000, 60 + minute),
      observationInput("steps", "count", T0 + minute * 60_000, 10 + minute),
    ]);
    await healthStoreFor(env.HEALTH_STORE, user.user.id).ingest(rows, asOwner(user));

    const first = await get(user, `/v1/observations?metrics=heart_rate&limit=2&${WINDOW}`);
    const { nextCursor } = await first.json<{ nextCursor: string }>();
    expect(nextCursor).toEqual(expect.any(String));

    const next = await get(user, `/v1/observations?metrics=heart_rate&limit=2&${WINDOW}&cursor=${nextCursor}`);
    expect((await next.json<{ items: { value: number }[] }>()).items.map((item) => item.value)).toEqual([62]);
    await expectBadCursor(await get(user, `/v1/observations?metrics=steps&limit=2&${WINDOW}&cursor=${nextCursor}`));
    await expectBadCursor(await get(user, `/v1/vault?cursor=${nextCursor}`));
  });

  it("binds a bucket cursor to the time zone it was issued in", async () => {
    const user = await createSessionUser();
    const days = [0, 1, 2].map((day) => observationInput("steps", "count", T0 + day * 86_400_000, 100 + day));
    await healthStoreFor(env.HEALTH_STORE, user.user.id).ingest(days, asOwner(user));
    const range = `since=2026-01-14&until=2026-01-20`;
    const first = await get(user, `/v1/observations?metrics=steps&resolution=day&limit=1&tz=UTC&${range}`);
    const { nextCursor } = await first.json<{ nextCursor: string }>();
    expect(nextCursor).toEqual(expect.any(String));
    expect(
      (await get(user, `/v1/observations?metrics=steps&resolution=day&limit=1&tz=UTC&${range}&cursor=${nextCursor}`)).status,
    ).toBe(200);
    await expectBadCursor(
      await get(user, `/v1/observations?metrics=steps&resolution=day&limit=1&tz=-12:00&${range}&cursor=${nextCursor}`),
    );
  });

  it("refuses a forged position no row can have", async () => {
    const user = await createSessionUser();
    const forged = encodeCursor("sessions", [2 ** 53 - 1, "ses_abcdefghijklmnopqrstuvwxyz"]);
    await expectBadCursor(await get(user, `/v1/me/sessions?cursor=${forged}`));
  });

  it("pages sessions created in the same millisecond without losing or repeating one", async () => {
    const user = await createSessionUser();
    const db = getDb(env.DB);
    const now = new Date();
    for (let i = 0; i < 4; i++) {
      const { writes } = await prepareSession({ db, config: getConfig(env) }, user.user, "interactive", "vitest", now);
      const [first, ...rest] = writes;
      if (first) await db.batch([first, ...rest]);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(user, `/v1/me/sessions?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      const page = await res.json<{ items: { id: string }[]; nextCursor: string | null }>();
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it("decodes only what it encoded, under the same list and filters", () => {
    const cursor = encodeCursor("uploads", [1_700_000_000_000, "upl_abcdefghijklmnopqrstuvwxyz"], { role: "x" });
    expect(decodeCursor(cursor, "uploads", ["int", "string"], { role: "x" })).toEqual([
      1_700_000_000_000,
      "upl_abcdefghijklmnopqrstuvwxyz",
    ]);
    expect(() => decodeCursor(cursor, "uploads", ["int", "string"], { role: "y" })).toThrow(/cursor/);
    expect(() => decodeCursor(cursor, "uploads", ["int", "int"], { role: "x" })).toThrow(/cursor/);
    expect(decodeCursor(undefined, "uploads", ["int"])).toBeUndefined();
  });
});
