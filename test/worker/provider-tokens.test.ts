import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config/config";
import { DomainError } from "../../src/errors/domain-error";
import {
  decryptToken,
  encryptToken,
  importTokenKeys,
  reencryptConnection,
  reencryptToken,
  sealedKeyId,
  type TokenBinding,
  TokenDecryptionError,
  tokenKeyringFor,
} from "../../src/providers/tokens";

function keyMaterial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes));
}

const V1 = `v1:${keyMaterial()}`;
const V2 = `v2:${keyMaterial()}`;
const binding: TokenBinding = { userId: "usr_a", provider: "oura", connectionId: "con_a", kind: "access" };
const TOKEN = "oura-access-token-Zk3q9-secret-value";

async function refusal(promise: Promise<unknown>): Promise<TokenDecryptionError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TokenDecryptionError);
  return error as TokenDecryptionError;
}

describe("provider token encryption", () => {
  it("round-trips a token, sealed as <key id>.<iv>.<ciphertext> with a fresh IV each time", async () => {
    const keyring = await importTokenKeys([V1]);
    const first = await encryptToken(keyring, binding, TOKEN);
    const second = await encryptToken(keyring, binding, TOKEN);

    expect(first).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(first).not.toContain(TOKEN);
    expect(second).not.toBe(first);
    expect(await decryptToken(keyring, binding, first)).toBe(TOKEN);
    expect(await decryptToken(keyring, binding, second)).toBe(TOKEN);
    expect(await decryptToken(keyring, binding, await encryptToken(keyring, binding, "ünïcødé ✓"))).toBe("ünïcødé ✓");
  });

  it("uses the keys from TOKEN_ENCRYPTION_KEYS, imported once per configuration", async () => {
    const config = getConfig(env);
    const keyring = await tokenKeyringFor(config);
    expect(await tokenKeyringFor(config)).toBe(keyring);
    expect(keyring.currentId).toBe(config.TOKEN_ENCRYPTION_KEYS[0]?.split(":")[0]);
    expect(await decryptToken(keyring, binding, await encryptToken(keyring, binding, TOKEN))).toBe(TOKEN);
  });

  it.each([
    ["another user", { userId: "usr_b" }],
    ["another provider", { provider: "whoop" }],
    ["another connection", { connectionId: "con_b" }],
    ["the other token column", { kind: "refresh" as const }],
  ])("refuses a ciphertext moved to %s", async (_label, change) => {
    const keyring = await importTokenKeys([V1]);
    const sealed = await encryptToken(keyring, binding, TOKEN);
    const error = await refusal(decryptToken(keyring, { ...binding, ...change }, sealed));
    expect(error.reason).toBe("not_authentic");
  });

  it("refuses an altered ciphertext, IV or key id", async () => {
    const keyring = await importTokenKeys([V2, V1]);
    const sealed = await encryptToken(keyring, binding, TOKEN);
    const [keyId, iv, ciphertext] = sealed.split(".") as [string, string, string];
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);

    for (const altered of [
      `${keyId}.${iv}.${flip(ciphertext, 3)}`,
      `${keyId}.${iv}.${flip(ciphertext, ciphertext.length - 2)}`,
      `${keyId}.${flip(iv, 0)}.${ciphertext}`,
      `v1.${iv}.${ciphertext}`,
      `${keyId}.${iv}.${ciphertext.slice(0, -4)}`,
    ]) {
      expect((await refusal(decryptToken(keyring, binding, altered))).reason).toBe("not_authentic");
    }
    for (const malformed of ["", "v2", `${keyId}.${iv}`, `x2.${iv}.${ciphertext}`, `${keyId}.${iv}.${ciphertext}.extra`]) {
      expect((await refusal(decryptToken(keyring, binding, malformed))).reason).toBe("malformed");
    }
  });

  it("opens tokens sealed under an older key after rotation, and re-encrypts them under the newest", async () => {
    const before = await importTokenKeys([V1]);
    const old = await encryptToken(before, binding, TOKEN);
    const after = await importTokenKeys([V2, V1]);

    expect(await decryptToken(after, binding, old)).toBe(TOKEN);
    expect(sealedKeyId(await encryptToken(after, binding, TOKEN))).toBe("v2");

    const rotated = await reencryptToken(after, binding, old);
    expect(rotated.changed).toBe(true);
    expect(sealedKeyId(rotated.sealed)).toBe("v2");
    expect(await decryptToken(await importTokenKeys([V2]), binding, rotated.sealed)).toBe(TOKEN);

    // Repeating the rotation leaves a token already under the newest key as it is.
    expect(await reencryptToken(after, binding, rotated.sealed)).toEqual({ sealed: rotated.sealed, changed: false });
  });

  it("re-encrypts both tokens of a connection row, and reports a row already current as unchanged", async () => {
    const before = await importTokenKeys([V1]);
    const row = {
      id: "con_row",
      userId: "usr_row",
      provider: "dexcom",
      accessTokenCiphertext: await encryptToken(
        before,
        { userId: "usr_row", provider: "dexcom", connectionId: "con_row", kind: "access" },
        "A",
      ),
      refreshTokenCiphertext: await encryptToken(
        before,
        { userId: "usr_row", provider: "dexcom", connectionId: "con_row", kind: "refresh" },
        "R",
      ),
    };
    const after = await importTokenKeys([V2, V1]);
    const next = await reencryptConnection(after, row);
    if (!next) throw new Error("expected a re-encryption");
    expect(sealedKeyId(next.accessTokenCiphertext ?? "")).toBe("v2");
    expect(sealedKeyId(next.refreshTokenCiphertext ?? "")).toBe("v2");
    const only2 = await importTokenKeys([V2]);
    const rowBinding = { userId: "usr_row", provider: "dexcom", connectionId: "con_row" };
    expect(await decryptToken(only2, { ...rowBinding, kind: "access" }, next.accessTokenCiphertext ?? "")).toBe("A");
    expect(await decryptToken(only2, { ...rowBinding, kind: "refresh" }, next.refreshTokenCiphertext ?? "")).toBe("R");

    expect(await reencryptConnection(after, { ...row, ...next })).toBeNull();
    expect(await reencryptConnection(after, { ...row, accessTokenCiphertext: null, refreshTokenCiphertext: null })).toBeNull();
    // A row whose ciphertexts were swapped between the columns is refused, not silently rotated.
    const swapped = {
      ...row,
      accessTokenCiphertext: row.refreshTokenCiphertext,
      refreshTokenCiphertext: row.accessTokenCiphertext,
    };
    await refusal(reencryptConnection(after, swapped));
  });

  it("refuses a token sealed under a key id that is no longer configured", async () => {
    const old = await encryptToken(await importTokenKeys([V1]), binding, TOKEN);
    const error = await refusal(decryptToken(await importTokenKeys([V2]), binding, old));
    expect(error.reason).toBe("unknown_key");
    expect(error.message).toContain("v1");
    await expect(reencryptToken(await importTokenKeys([V2]), binding, old)).rejects.toBeInstanceOf(TokenDecryptionError);
  });

  it("puts nothing secret in its errors", async () => {
    const keyring = await importTokenKeys([V2, V1]);
    const sealed = await encryptToken(keyring, binding, TOKEN);
    const [, iv, ciphertext] = sealed.split(".") as [string, string, string];
    const errors = [
      await refusal(decryptToken(keyring, { ...binding, userId: "usr_x" }, sealed)),
      await refusal(decryptToken(await importTokenKeys([V1]), binding, sealed)),
      await refusal(decryptToken(keyring, binding, `${sealed}x`)),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(DomainError);
      expect(error.code).toBe("INTERNAL");
      const text = `${error.message} ${error.detail ?? ""} ${JSON.stringify(error.extensions)} ${String(error.cause ?? "")}`;
      for (const secret of [TOKEN, iv, ciphertext, V1.slice(3), V2.slice(3)]) expect(text).not.toContain(secret);
    }
  });

  it("refuses a malformed or repeated key configuration", async () => {
    await expect(importTokenKeys([])).rejects.toBeInstanceOf(DomainError);
    await expect(importTokenKeys(["v1:short"])).rejects.toBeInstanceOf(DomainError);
    await expect(importTokenKeys([V1, `v1:${keyMaterial()}`])).rejects.toThrow(/v1 twice/);
  });
});
