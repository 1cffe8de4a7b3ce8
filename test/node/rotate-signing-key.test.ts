import { describe, expect, it } from "vitest";
import { generateSigningKey } from "../../scripts/dev-vars.mjs";
import { rotateKeySet } from "../../scripts/rotate-signing-key.mjs";

describe("signing key rotation", () => {
  it("puts a new signer first and keeps the previous one to verify its tokens", async () => {
    const original = await generateSigningKey("original");
    const now = new Date("2026-11-23T12:00:00Z");
    const rotated = await rotateKeySet([original], now);
    expect(rotated).toHaveLength(2);
    expect(rotated[0].kid).not.toBe("original");
    expect(rotated[0]).toMatchObject({ kty: "EC", crv: "P-256" });
    expect(rotated[0].d).toEqual(expect.any(String));
    expect(rotated[1]).toEqual({ ...original, retiredAt: now.toISOString() });
  });

  it("drops keys retired more than an hour ago, once their tokens have expired", async () => {
    const first = await generateSigningKey("first");
    const t0 = new Date("2026-11-23T12:00:00Z");
    const once = await rotateKeySet([first], t0);
    const twice = await rotateKeySet(once, new Date(t0.getTime() + 30 * 60 * 1000));
    expect(twice.map((key) => key.kid)).toContain("first");
    const thrice = await rotateKeySet(twice, new Date(t0.getTime() + 61 * 60 * 1000));
    expect(thrice.map((key) => key.kid)).not.toContain("first");
    expect(thrice).toHaveLength(3);
    expect(new Set(thrice.map((key) => key.kid)).size).toBe(3);
  });

  it("refuses an empty key set", async () => {
    await expect(rotateKeySet([])).rejects.toThrow(/non-empty/);
  });
});
