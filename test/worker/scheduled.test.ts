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
