// The software passkey that dev:signup --save writes and dev:signin / dev:delete-account read back:
// private to its owner on disk, and the same credential after the round trip (same id, user
// handle, counter, and a key whose signatures the registered public key verifies).
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCredential, parseOptions, SoftwareAuthenticator, saveCredential } from "../../scripts/dev-passkey.mjs";

const CREATION = {
  rp: { id: "localhost", name: "Pulse" },
  user: { id: "dXNlci1oYW5kbGU", name: "ada", displayName: "Ada" },
  challenge: "Y2hhbGxlbmdl",
  pubKeyCredParams: [{ type: "public-key" as const, alg: -7 }],
};

describe("scripts/dev-passkey.mjs", () => {
  it("saves the credential with mode 0600 and restores one that signs as the original", async () => {
    const original = await SoftwareAuthenticator.create({ origin: "http://localhost:8812", extractable: true });
    await original.register(CREATION);
    await original.authenticate({ challenge: "Zmlyc3Q" });
    const file = join(mkdtempSync(join(tmpdir(), "pulse-passkey-")), "ada.passkey.json");
    await saveCredential(file, original);

    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, "utf8"));
    expect(saved).toMatchObject({
      format: "pulse-dev-passkey/1",
      credentialId: original.credentialId,
      userHandle: "dXNlci1oYW5kbGU",
      rpId: "localhost",
      origin: "http://localhost:8812",
      signCount: 1,
    });
    expect(saved.privateKeyJwk).toMatchObject({ kty: "EC", crv: "P-256" });

    const restored = await loadCredential(file);
    expect(restored.origin).toBe("http://localhost:8812");
    const assertion = await restored.authenticate({ challenge: "c2Vjb25k" });
    expect(assertion.id).toBe(original.credentialId);
    expect(assertion.response.userHandle).toBe("dXNlci1oYW5kbGU");
    // The counter continues (the server refuses one that does not increase): 2 in the authenticator data.
    const authData = Buffer.from(assertion.response.authenticatorData, "base64url");
    expect(authData.readUInt32BE(33)).toBe(2);
    // The restored key's signature verifies under the public key of the original credential.
    const { d: _d, key_ops: _ops, ...publicJwk } = saved.privateKeyJwk;
    const key = await crypto.subtle.importKey("jwk", publicJwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    const clientDataHash = await crypto.subtle.digest("SHA-256", Buffer.from(assertion.response.clientDataJSON, "base64url"));
    const signed = new Uint8Array(Buffer.concat([authData, Buffer.from(clientDataHash)]));
    const raw = new Uint8Array(derToRaw(Buffer.from(assertion.response.signature, "base64url")));
    expect(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, signed)).toBe(true);
  });

  it("refuses to save a key it cannot export, and to read a file that is not a saved passkey", async () => {
    const locked = await SoftwareAuthenticator.create();
    await locked.register(CREATION);
    const dir = mkdtempSync(join(tmpdir(), "pulse-passkey-"));
    await expect(saveCredential(join(dir, "locked.json"), locked)).rejects.toThrow();
    await expect(loadCredential(join(dir, "missing.json"))).rejects.toThrow(/cannot read the saved passkey/);
  });

  it("reads each --option once and refuses anything else", () => {
    const usage = "npm run dev:x -- --key <file>";
    expect(parseOptions(["--key", "a.json", "--url", "http://localhost:1"], ["key", "url"], usage)).toEqual({
      key: "a.json",
      url: "http://localhost:1",
    });
    expect(() => parseOptions(["--key"], ["key"], usage)).toThrow(/usage/);
    expect(() => parseOptions(["--key", "a", "--key", "b"], ["key"], usage)).toThrow(/usage/);
    expect(() => parseOptions(["--token", "x"], ["key"], usage)).toThrow(/usage/);
    expect(() => parseOptions(["a.json"], ["key"], usage)).toThrow(/usage/);
  });
});

/** ASN.1 DER ECDSA signature → r‖s, 32 bytes each (what WebCrypto verifies). */
function derToRaw(der: Buffer): Buffer {
  const rLength = der[3] ?? 0;
  const r = der.subarray(4, 4 + rLength);
  const s = der.subarray(6 + rLength);
  const fixed = (n: Buffer) => Buffer.concat([Buffer.alloc(32), n.subarray(n.length > 32 ? n.length - 32 : 0)]).subarray(-32);
  return Buffer.concat([fixed(r), fixed(s)]);
}
