import { describe, expect, it } from "vitest";
import type { EnclaveIdentity } from "../../enclave-bridge/src/identity.ts";
import {
  AttestationCache,
  loadPinnedRoot,
  type VerifiedAttestation,
  type VerifyAttestationOptions,
  verifyAttestation,
} from "../../src/ai/attestation";
import {
  AWS_NITRO_ROOT_G1_PEM,
  AWS_NITRO_ROOT_G1_SHA256,
  NITRO_ATTESTATION_B64,
  NITRO_ATTESTATION_DEBUG_B64,
  SELFSIGNED_ATTESTATION_B64,
} from "./helpers/nitro-fixtures";

const REAL_PCR0 = "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a";
const REAL_MODULE_ID = "i-0a22e5c5f24d22174-enc0191cceb4289903f";
/** The real document's own timestamp, 2024-09-07T14:37:39.545Z; its leaf certificate lives ~3 h. */
const REAL_TIMESTAMP = new Date(1725719859545);
/** The real NSM document carries a 1024-byte nonce of 0x01 bytes. */
const REAL_NONCE = new Uint8Array(1024).fill(1);
const FIVE_MINUTES = 5 * 60_000;

const fromBase64 = (value: string) => Uint8Array.from(atob(value), (char) => char.charCodeAt(0));

/** Byte offset of the first occurrence of an ASCII string inside a document. */
function offsetOf(document: Uint8Array, ascii: string): number {
  const needle = new TextEncoder().encode(ascii);
  for (let start = 0; start + needle.length <= document.length; start++) {
    if (needle.every((byte, index) => document[start + index] === byte)) return start;
  }
  throw new Error(`${ascii} not found`);
}
const root = await loadPinnedRoot(AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256);

function options(overrides: Partial<VerifyAttestationOptions> = {}): VerifyAttestationOptions {
  return { root, maxAgeMs: FIVE_MINUTES, now: new Date(REAL_TIMESTAMP.getTime() + 1_000), ...overrides };
}

async function reasonFor(document: Uint8Array, overrides: Partial<VerifyAttestationOptions> = {}) {
  const result = await verifyAttestation(document, options(overrides));
  return result.ok ? "OK" : result.reason;
}

describe("verifyAttestation", () => {
  it("accepts the real AWS document at its own timestamp against the AWS Nitro root G1", async () => {
    const result = await verifyAttestation(
      fromBase64(NITRO_ATTESTATION_B64),
      options({ expectedPcrs: { 0: REAL_PCR0.toUpperCase() }, nonce: REAL_NONCE }),
    );
    if (!result.ok) throw new Error(`refused: ${result.reason} ${result.detail}`);
    expect(result.attestation.moduleId).toBe(REAL_MODULE_ID);
    expect(result.attestation.pcrs[0]).toBe(REAL_PCR0);
    expect(result.attestation.timestamp.toISOString()).toBe("2024-09-07T14:37:39.545Z");
    expect(result.attestation.digest).toBe("SHA384");
    expect(result.attestation.publicKey?.length).toBe(1024);
    expect(result.attestation.certificateChain).toHaveLength(5);
    expect(result.attestation.certificateChain.at(-1)?.subject).toBe("C=US, O=Amazon, OU=AWS, CN=aws.nitro-enclaves");
    expect(result.attestation.validUntil.toISOString()).toBe("2024-09-07T17:37:39.000Z");
  });

  it("refuses a debug-mode document (PCR0-2 all zero)", async () => {
    const debugTime = new Date(1725719886508 + 1_000);
    expect(await reasonFor(fromBase64(NITRO_ATTESTATION_DEBUG_B64), { now: debugTime })).toBe("DEBUG_MODE");
  });

  it("refuses a document whose chain ends in a self-signed root", async () => {
    expect(await reasonFor(fromBase64(SELFSIGNED_ATTESTATION_B64))).toBe("UNTRUSTED_ROOT");
  });

  it("refuses a document with one signature byte flipped", async () => {
    const document = fromBase64(NITRO_ATTESTATION_B64);
    // The 96-byte signature is the last element of the COSE_Sign1 array.
    document.set([(document.at(-10) ?? 0) ^ 0x01], document.length - 10);
    expect(await reasonFor(document)).toBe("BAD_SIGNATURE");
  });

  it("refuses a payload byte changed after signing", async () => {
    const document = fromBase64(NITRO_ATTESTATION_B64);
    const moduleIdAt = offsetOf(document, REAL_MODULE_ID);
    document[moduleIdAt] = "j".charCodeAt(0);
    expect(await reasonFor(document)).toBe("BAD_SIGNATURE");
  });

  it("refuses a PCR0 that differs from the pinned value", async () => {
    const wrong = `00${REAL_PCR0.slice(2)}`;
    expect(await reasonFor(fromBase64(NITRO_ATTESTATION_B64), { expectedPcrs: { 0: wrong } })).toBe("PCR_MISMATCH");
  });

  it("refuses a document verified a day later with a five-minute maximum age", async () => {
    const aDayLater = new Date(REAL_TIMESTAMP.getTime() + 24 * 3_600_000);
    expect(await reasonFor(fromBase64(NITRO_ATTESTATION_B64), { now: aDayLater })).toBe("STALE");
  });

  it("refuses a document dated in the future beyond the clock skew", async () => {
    const anHourEarlier = new Date(REAL_TIMESTAMP.getTime() - 3_600_000);
    expect(await reasonFor(fromBase64(NITRO_ATTESTATION_B64), { now: anHourEarlier })).toBe("STALE");
  });

  it("refuses a document whose nonce differs from the requested one", async () => {
    const nonce = new Uint8Array(1024).fill(2);
    expect(await reasonFor(fromBase64(NITRO_ATTESTATION_B64), { nonce })).toBe("NONCE_MISMATCH");
  });

  it("accepts the document wrapped in the COSE_Sign1 tag 18 and refuses any other tag", async () => {
    const document = fromBase64(NITRO_ATTESTATION_B64);
    expect(await reasonFor(new Uint8Array([0xd2, ...document]))).toBe("OK");
    // Tag 17 is COSE_Mac0 (RFC 9052 §2), a different structure with the same shape.
    expect(await reasonFor(new Uint8Array([0xd1, ...document]))).toBe("BAD_ENCODING");
  });

  it("refuses garbage and truncated bytes as bad encoding", async () => {
    expect(await reasonFor(new TextEncoder().encode("not an attestation document"))).toBe("BAD_ENCODING");
    expect(await reasonFor(fromBase64(NITRO_ATTESTATION_B64).subarray(0, 4000))).toBe("BAD_ENCODING");
    expect(await reasonFor(new Uint8Array(0))).toBe("BAD_ENCODING");
  });

  it("refuses a chain whose intermediate was altered", async () => {
    const document = fromBase64(NITRO_ATTESTATION_B64);
    // First occurrence: the subject of the regional intermediate, cabundle[1].
    const at = offsetOf(document, "ec28cbbaae08094d");
    document[at] = "f".charCodeAt(0);
    expect(await reasonFor(document)).toBe("BAD_CHAIN");
  });

  it("refuses to load a root whose fingerprint is not the pinned one", async () => {
    await expect(loadPinnedRoot(AWS_NITRO_ROOT_G1_PEM, "00".repeat(32))).rejects.toThrow(/fingerprint/);
  });
});

describe("AttestationCache", () => {
  async function verified() {
    const result = await verifyAttestation(fromBase64(NITRO_ATTESTATION_B64), options());
    if (!result.ok) throw new Error(`refused: ${result.reason}`);
    return result.attestation;
  }
  // AWS's sample document carries no Pulse identity; the cache keeps whatever it is given with it.
  const identity: EnclaveIdentity = {
    v: 1,
    receiptKey: "A".repeat(87),
    model: { id: "pulse-analyst@2", kind: "analyst", confidential: true },
  };
  const entry = (attestation: VerifiedAttestation) => ({ attestation, document: new Uint8Array([1]), identity });

  it("returns a verification for the same endpoint until its TTL runs out", async () => {
    const cache = new AttestationCache(FIVE_MINUTES);
    const attestation = await verified();
    cache.set("bridge-a", entry(attestation), REAL_TIMESTAMP);
    expect(cache.get("bridge-a", new Date(REAL_TIMESTAMP.getTime() + 60_000))).toEqual({
      ...entry(attestation),
      verifiedAt: REAL_TIMESTAMP,
    });
    expect(cache.get("bridge-b", REAL_TIMESTAMP)).toBeNull();
    expect(cache.get("bridge-a", new Date(REAL_TIMESTAMP.getTime() + FIVE_MINUTES))).toBeNull();
  });

  it("never outlives the leaf certificate, and forgets on request", async () => {
    const cache = new AttestationCache(24 * 3_600_000);
    const attestation = await verified();
    cache.set("bridge-a", entry(attestation), REAL_TIMESTAMP);
    expect(cache.get("bridge-a", new Date(attestation.validUntil.getTime() - 1))?.attestation).toBe(attestation);
    expect(cache.get("bridge-a", attestation.validUntil)).toBeNull();
    cache.set("bridge-a", entry(attestation), REAL_TIMESTAMP);
    cache.delete("bridge-a");
    expect(cache.get("bridge-a", REAL_TIMESTAMP)).toBeNull();
  });

  it("keeps at most its maximum number of endpoints, dropping the oldest", async () => {
    const cache = new AttestationCache(FIVE_MINUTES, 2);
    const attestation = await verified();
    for (const key of ["a", "b", "c"]) cache.set(key, entry(attestation), REAL_TIMESTAMP);
    expect(cache.get("a", REAL_TIMESTAMP)).toBeNull();
    expect(cache.get("c", REAL_TIMESTAMP)?.attestation).toBe(attestation);
  });
});
