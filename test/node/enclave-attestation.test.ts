// The local trust path end to end: documents from the bridge's SimulatedNsm must pass the Worker's
// verifier when the development root is pinned, and fail with its reason codes otherwise.
import { beforeAll, describe, expect, it } from "vitest";

// Loaded by URL, with the slice of their API used here typed locally: tsconfig.node.json (DOM lib,
// no allowImportingTsExtensions) cannot type-check the bridge's `.ts` imports or the Worker sources,
// while vitest runs both. Drift from the real API fails these tests at run time.
type PinnedRoot = { readonly sha256: string };
type Pcrs = { readonly 0: string; readonly 1: string; readonly 2: string };
interface SimulatedNsm {
  getAttestationDocument(request: { publicKey?: Uint8Array; nonce?: Uint8Array }): Promise<Uint8Array>;
  describePcrs(): Promise<Pcrs>;
  developmentRootPem(): string;
  developmentRootSha256(): Promise<string>;
}
type AttestationResult =
  | {
      readonly ok: true;
      readonly attestation: {
        readonly publicKey: Uint8Array | null;
        readonly nonce: Uint8Array | null;
        readonly pcrs: Readonly<Record<number, string>>;
        readonly certificateChain: readonly unknown[];
        readonly validUntil: Date;
      };
    }
  | { readonly ok: false; readonly reason: string; readonly detail: string };
interface BridgeNsmModule {
  SimulatedNsm: { create(options: { imageIdentity: string }): Promise<SimulatedNsm> };
}
interface AttestationModule {
  loadPinnedRoot(pem: string, sha256: string): Promise<PinnedRoot>;
  verifyAttestation(
    document: Uint8Array,
    options: { root: PinnedRoot; expectedPcrs?: Pcrs; nonce?: Uint8Array; maxAgeMs: number; now: Date },
  ): Promise<AttestationResult>;
}

const { SimulatedNsm } = (await import(
  new URL("../../enclave-bridge/src/nsm/index.ts", import.meta.url).href
)) as BridgeNsmModule;
const { loadPinnedRoot, verifyAttestation } = (await import(
  new URL("../../src/ai/attestation/index.ts", import.meta.url).href
)) as AttestationModule;

const MAX_AGE_MS = 5 * 60_000;

describe("SimulatedNsm documents against the Worker's verifier", () => {
  let nsm: SimulatedNsm;
  let root: PinnedRoot;
  let pcrs: Pcrs;

  beforeAll(async () => {
    nsm = await SimulatedNsm.create({ imageIdentity: "pulse-enclave@local" });
    root = await loadPinnedRoot(nsm.developmentRootPem(), await nsm.developmentRootSha256());
    pcrs = await nsm.describePcrs();
  });

  it("verifies with the development root, PCRs and nonce pinned", async () => {
    const publicKey = crypto.getRandomValues(new Uint8Array(32));
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const document = await nsm.getAttestationDocument({ publicKey, nonce });

    const result = await verifyAttestation(document, { root, expectedPcrs: pcrs, nonce, maxAgeMs: MAX_AGE_MS, now: new Date() });

    if (!result.ok) expect.fail(`refused: ${result.reason} (${result.detail})`);
    expect(result.attestation.publicKey).toEqual(publicKey);
    expect(result.attestation.nonce).toEqual(nonce);
    expect(result.attestation.pcrs[0]).toBe(pcrs[0]);
    expect(result.attestation.certificateChain).toHaveLength(3);
    expect(result.attestation.validUntil.getTime()).toBeGreaterThan(Date.now());
  });

  it("refuses a document carrying another nonce", async () => {
    const document = await nsm.getAttestationDocument({ nonce: crypto.getRandomValues(new Uint8Array(32)) });
    const expected = crypto.getRandomValues(new Uint8Array(32));

    const result = await verifyAttestation(document, { root, nonce: expected, maxAgeMs: MAX_AGE_MS, now: new Date() });

    expect(result).toMatchObject({ ok: false, reason: "NONCE_MISMATCH" });
  });

  it("refuses a document chaining to another development root", async () => {
    const other = await SimulatedNsm.create({ imageIdentity: "pulse-enclave@local" });
    const document = await other.getAttestationDocument({});

    const result = await verifyAttestation(document, { root, maxAgeMs: MAX_AGE_MS, now: new Date() });

    expect(result).toMatchObject({ ok: false, reason: "UNTRUSTED_ROOT" });
  });

  it("refuses a document from another enclave image", async () => {
    const other = await SimulatedNsm.create({ imageIdentity: "pulse-enclave@tampered" });
    const otherRoot = await loadPinnedRoot(other.developmentRootPem(), await other.developmentRootSha256());
    const document = await other.getAttestationDocument({});

    const result = await verifyAttestation(document, {
      root: otherRoot,
      expectedPcrs: pcrs,
      maxAgeMs: MAX_AGE_MS,
      now: new Date(),
    });

    expect(result).toMatchObject({ ok: false, reason: "PCR_MISMATCH" });
  });
});
