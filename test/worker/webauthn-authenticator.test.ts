// The software authenticator is what every passkey test trusts, so its encoders are checked
// against published vectors and against @simplewebauthn's own decoders.
import { decodeAttestationObject, isoBase64URL, parseAuthenticatorData } from "@simplewebauthn/server/helpers";
import { describe, expect, it } from "vitest";
import { cbor, fromBase64url, rawToDer, SoftwareAuthenticator } from "./helpers/authenticator";

const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

describe("software authenticator", () => {
  it("encodes CBOR as RFC 8949 Appendix A does", () => {
    const vectors: [Parameters<typeof cbor>[0], string][] = [
      [0, "00"],
      [23, "17"],
      [24, "1818"],
      [100, "1864"],
      [1000, "1903e8"],
      [1000000, "1a000f4240"],
      [-1, "20"],
      [-1000, "3903e7"],
      ["a", "6161"],
      ["IETF", "6449455446"],
      [Uint8Array.of(1, 2, 3, 4), "4401020304"],
      [[1, [2, 3], [4, 5]], "8301820203820405"],
      [
        new Map([
          [1, 2],
          [3, 4],
        ]),
        "a201020304",
      ],
    ];
    for (const [value, expected] of vectors) expect(hex(cbor(value))).toBe(expected);
  });

  it("converts r||s to DER, trimming leading zeros and keeping integers positive", () => {
    const r = new Uint8Array(32).fill(0x80);
    const s = new Uint8Array(32);
    s[31] = 0x01;
    expect(hex(rawToDer(new Uint8Array([...r, ...s])))).toBe(`3026022100${"80".repeat(32)}020101`);
  });

  it("produces attestation objects and authenticator data that @simplewebauthn parses", async () => {
    const key = await SoftwareAuthenticator.create({ backupEligible: true, backedUp: true });
    const response = await key.register({
      challenge: "Y2hhbGxlbmdl",
      rp: { id: "localhost", name: "Pulse" },
      user: { id: "dXNlcg", name: "ada", displayName: "Ada" },
      pubKeyCredParams: [{ alg: -7, type: "public-key" }],
    });
    const attestation = decodeAttestationObject(isoBase64URL.toBuffer(response.response.attestationObject));
    expect(attestation.get("fmt")).toBe("none");
    expect(attestation.get("attStmt").size).toBe(0);
    const parsed = parseAuthenticatorData(attestation.get("authData"));
    expect(parsed.flags).toMatchObject({ up: true, uv: true, be: true, bs: true, at: true });
    expect(isoBase64URL.fromBuffer(parsed.credentialID ?? new Uint8Array())).toBe(key.credentialId);
    const clientData = JSON.parse(new TextDecoder().decode(fromBase64url(response.response.clientDataJSON)));
    expect(clientData).toMatchObject({ type: "webauthn.create", challenge: "Y2hhbGxlbmdl", origin: "http://localhost:8787" });
    expect(key.userHandle).toBe("dXNlcg");
  });
});
