import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { fireCron, readCrons, startCronTriggers } from "../../scripts/dev-crons.mjs";

/** A stand-in for the dev server's scheduled-event endpoint that records what it was asked. */
async function fakeDevServer(outcome = "ok") {
  const requests: URL[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    requests.push(new URL(req.url ?? "/", "http://localhost"));
    res.writeHead(outcome === "ok" ? 200 : 500, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ outcome }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("npm run dev cron triggers", () => {
  it("reads the crons of wrangler.toml [triggers]", async () => {
    expect(await readCrons("wrangler.toml")).toEqual(["*/5 * * * *", "0 * * * *", "30 3 * * *"]);
  });

  it("dispatches a scheduled event with its cron and scheduled time, and reports the outcome", async () => {
    const server = await fakeDevServer("exception");
    cleanups.push(server.close);
    expect(await fireCron(server.origin, "*/5 * * * *", 1_700_000_100_000)).toEqual({ status: 500, outcome: "exception" });
    const [request] = server.requests;
    expect(request?.pathname).toBe("/cdn-cgi/local/scheduled");
    expect(Object.fromEntries(request?.searchParams ?? [])).toEqual({
      cron: "*/5 * * * *",
      time: "1700000100000",
      format: "json",
    });
  });

  it("fires each cron on its schedule until stopped", async () => {
    const server = await fakeDevServer();
    cleanups.push(server.close);
    const lines: string[] = [];
    // Croner's seconds field lets the test see a schedule fire within a couple of seconds.
    const triggers = startCronTriggers({ origin: server.origin, crons: ["* * * * * *", "0 0 1 1 *"], log: (l) => lines.push(l) });
    cleanups.push(() => triggers.stop());
    expect(triggers.nextRuns()[1]?.toISOString()).toMatch(/^\d{4}-01-01T00:00:00\.000Z$/);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    triggers.stop();
    const fired = server.requests.length;
    expect(fired).toBeGreaterThanOrEqual(1);
    expect(server.requests.every((url) => url.searchParams.get("cron") === "* * * * * *")).toBe(true);
    expect(Number(server.requests[0]?.searchParams.get("time")) % 1000).toBe(0);
    expect(lines[0]).toBe('[cron] "* * * * * *" fired: ok');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(server.requests.length).toBe(fired);
  });
});
