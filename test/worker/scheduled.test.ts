import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { CRONS, runScheduled, type ScheduledJob } from "../../src/scheduled/handler";

describe("scheduled", () => {
  it("runs every job of a cron even when one fails, and reports which", async () => {
    const ran: string[] = [];
    const jobs: ScheduledJob[] = [
      { name: "first", run: async () => void ran.push("first") },
      {
        name: "broken",
        run: async () => {
          throw new Error("boom");
        },
      },
      { name: "last", run: async () => void ran.push("last") },
    ];
    const result = await runScheduled(CRONS.daily, new Date(), env, { [CRONS.daily]: jobs });
    expect(ran).toEqual(["first", "last"]);
    expect(result).toEqual({ ran: ["first", "last"], failed: ["broken"] });
  });

  it("declares a handler for every cron trigger in wrangler.toml", async () => {
    for (const cron of Object.values(CRONS)) {
      const controller = createScheduledController({ cron, scheduledTime: new Date() });
      await expect(worker.scheduled(controller, env, createExecutionContext())).resolves.toBeUndefined();
    }
  });
});

describe("daily retention", () => {
  it("purges expired ceremonies and long-ended sessions, and keeps live ones", async () => {
    const now = Date.now();
    const day = 24 * 60 * 60 * 1000;
    const user = `usr_${"r".repeat(26)}`;
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO users (id, username, display_name, role, created_at, updated_at) VALUES (?, ?, 'R', 'patient', ?, ?)",
      ).bind(user, `retention-${crypto.randomUUID()}`, now, now),
      env.DB.prepare(
        "INSERT INTO auth_flows (id, kind, challenge, created_at, expires_at) VALUES ('flw_old', 'login', 'c', ?, ?)",
      ).bind(now - day, now - day),
      env.DB.prepare(
        "INSERT INTO auth_flows (id, kind, challenge, created_at, expires_at) VALUES ('flw_live', 'login', 'c', ?, ?)",
      ).bind(now, now + 60_000),
      env.DB.prepare(
        "INSERT INTO sessions (id, user_id, kind, created_at, last_seen_at, expires_at, revoked_at) VALUES ('ses_old', ?, 'interactive', ?, ?, ?, NULL), ('ses_live', ?, 'interactive', ?, ?, ?, NULL)",
      ).bind(user, now - 40 * day, now - 40 * day, now - 39 * day, user, now, now, now + day),
    ]);
    // Only the sandbox provider configured: the test providers' real APIs are not reachable here.
    const local = { ...env, PROVIDER_CREDENTIALS: JSON.stringify({}) };
    const result = await runScheduled(CRONS.daily, new Date(now), local);
    expect(result.failed).toEqual([]);
    const ids = async (sql: string) => (await env.DB.prepare(sql).all<{ id: string }>()).results.map((row) => row.id);
    expect(await ids("SELECT id FROM auth_flows WHERE id IN ('flw_old', 'flw_live')")).toEqual(["flw_live"]);
    expect(await ids("SELECT id FROM sessions WHERE id IN ('ses_old', 'ses_live')")).toEqual(["ses_live"]);
  });
});
