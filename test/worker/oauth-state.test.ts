import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { OAuthState, OAuthStatePayload } from "../../durable-objects/oauth-state";

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 32 random bytes, base64url: what the connection flow generates. */
function newState(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

const payload: OAuthStatePayload = {
  userId: "usr_01",
  provider: "sandbox",
  codeVerifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
  redirectUri: "http://localhost:8787/oauth/sandbox/callback",
  scopes: ["heartrate", "sleep"],
};

describe("OAuthState", () => {
  it("returns the payload once, then null", async () => {
    const state = newState();
    const stub = env.OAUTH_STATE.getByName(state);
    await stub.put(state, payload);
    expect(await stub.take(state)).toEqual(payload);
    expect(await stub.take(state)).toBeNull();
  });

  it("gives the payload to exactly one of many concurrent takes", async () => {
    const state = newState();
    const stub = env.OAUTH_STATE.getByName(state);
    await stub.put(state, payload);
    const results = await Promise.all(Array.from({ length: 20 }, () => stub.take(state)));
    expect(results.filter((result) => result !== null)).toEqual([payload]);
  });

  it("answers null for a state it never stored, or another state sent to its object", async () => {
    const state = newState();
    expect(await env.OAUTH_STATE.getByName(state).take(state)).toBeNull();
    const stub = env.OAUTH_STATE.getByName(state);
    await stub.put(state, payload);
    expect(await stub.take(newState())).toBeNull();
    expect(await stub.take(state)).toEqual(payload);
  });

  it("answers null after the state expires and leaves no storage behind", async () => {
    const state = newState();
    const stub = env.OAUTH_STATE.getByName(state);
    await stub.put(state, payload, 1);
    await wait(1100);
    expect(await stub.take(state)).toBeNull();
    const left = await runInDurableObject(stub, async (_instance, storage) => ({
      entries: [...storage.storage.kv.list()].length,
      alarm: await storage.storage.getAlarm(),
    }));
    expect(left).toEqual({ entries: 0, alarm: null });
  });

  it("cleans up an expired state by alarm even if nobody comes back for it", async () => {
    const state = newState();
    const stub = env.OAUTH_STATE.getByName(state);
    await stub.put(state, payload, 1);
    await wait(1100);
    await runDurableObjectAlarm(stub); // may already have fired on its own
    const entries = await runInDurableObject(stub, (_instance, storage) => [...storage.storage.kv.list()].length);
    expect(entries).toBe(0);
  });

  it("keeps a live state when its alarm runs early", async () => {
    const state = newState();
    const stub = env.OAUTH_STATE.getByName(state);
    await stub.put(state, payload);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.take(state)).toEqual(payload);
  });

  // Called on the instance, not through the stub: a rejecting RPC in the vitest harness also leaks an
  // unhandled rejection (cloudflare/workers-sdk#14736).
  it("refuses to overwrite a live state and rejects malformed input", async () => {
    const state = newState();
    const stub = env.OAUTH_STATE.getByName(state);
    await stub.put(state, payload);
    await runInDurableObject(stub, async (instance: OAuthState) => {
      await expect(instance.put(state, { ...payload, userId: "usr_attacker" })).rejects.toThrow(/already in use/);
      await expect(instance.put("short", payload)).rejects.toThrow(/state/);
      await expect(instance.put(state, payload, 0)).rejects.toThrow(/ttlSeconds/);
      await expect(instance.put(state, payload, 3601)).rejects.toThrow(/ttlSeconds/);
      await expect(instance.put(state, { ...payload, codeVerifier: "" })).rejects.toThrow(/codeVerifier/);
    });
    expect(await stub.take("short")).toBeNull();
    expect(await stub.take(state)).toEqual(payload);
  });
});

describe("OAuthState peek and bind", () => {
  it("peeks without consuming, binds extra fields, and take then returns them once", async () => {
    const state = newState();
    const stub = env.OAUTH_STATE.getByName(state);
    await stub.put(state, payload);
    expect(await stub.peek(state)).toEqual(payload);
    expect(await stub.peek(state)).toEqual(payload);
    expect(await stub.bind(state, { bindingHash: "abc" })).toBe(true);
    expect(await stub.peek(state)).toEqual({ ...payload, bindingHash: "abc" });
    expect(await stub.take(state)).toEqual({ ...payload, bindingHash: "abc" });
    expect(await stub.peek(state)).toBeNull();
    expect(await stub.bind(state, { bindingHash: "late" })).toBe(false);
    expect(await stub.take(state)).toBeNull();
  });

  it("never rebinds the fields the callback trusts", async () => {
    const state = newState();
    const stub = env.OAUTH_STATE.getByName(state);
    await stub.put(state, payload);
    expect(await stub.bind(state, { userId: "usr_attacker" })).toBe(false);
    expect(await stub.bind(state, { codeVerifier: "x", bindingHash: "h" })).toBe(false);
    expect(await stub.take(state)).toEqual(payload);
  });

  it("neither peeks nor binds an expired state, or another state sent to its object", async () => {
    const state = newState();
    const stub = env.OAUTH_STATE.getByName(state);
    await stub.put(state, payload, 1);
    expect(await stub.peek(newState())).toBeNull();
    expect(await stub.bind(newState(), { bindingHash: "x" })).toBe(false);
    await wait(1100);
    expect(await stub.peek(state)).toBeNull();
    expect(await stub.bind(state, { bindingHash: "x" })).toBe(false);
    expect(await stub.take(state)).toBeNull();
  });
});
