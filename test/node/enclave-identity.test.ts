// The Worker's EnclaveClient against an enclave whose attestation document is valid in every
// other way (development root, pinned PCRs, the Worker's own nonce) but names no receipt key and
// model in its user_data: refused as ATTESTATION_FAILED, reason NO_IDENTITY — without an identity
// there is no key to check an answer's receipt with, and no model to tell the person about. The
// NSM is the bridge's SimulatedNsm, the same one `npm run dev` runs; only the enclave application
// that would add the identity is left out.
import { beforeAll, describe, expect, it } from "vitest";

// Loaded by URL with the slice of their API used here typed locally, as in
// enclave-attestation.test.ts: tsconfig.node.json cannot type-check the bridge's `.ts` imports or
// the Worker sources, while vitest runs both. Drift from the real API fails these tests at run time.
type Pcrs = { readonly 0: string; readonly 1: string; readonly 2: string };
interface SimulatedNsm {
  getAttestationDocument(request: { publicKey?: Uint8Array; nonce?: Uint8Array; userData?: Uint8Array }): Promise<Uint8Array>;
  describePcrs(): Promise<Pcrs>;
  developmentRootPem(): string;
  developmentRootSha256(): Promise<string>;
}
interface Attested {
  readonly identity: { readonly model: { readonly id: string; readonly kind: string; readonly confidential: boolean } };
}
interface EnclaveClient {
  attest(): Promise<Attested>;
}
interface ProtocolModule {
  MessageKind: { readonly ATTEST: number; readonly ATTESTATION: number };
  encodeMessage(kind: number, body: Uint8Array): Uint8Array;
  decodeMessage(message: Uint8Array): { kind: number; body: Uint8Array };
}
interface IdentityModule {
  encodeEnclaveIdentity(identity: {
    v: 1;
    receiptKey: string;
    model: { id: string; kind: string; confidential: boolean };
  }): Uint8Array;
}

const { SimulatedNsm } = (await import(new URL("../../enclave-bridge/src/nsm/index.ts", import.meta.url).href)) as {
  SimulatedNsm: { create(options: { imageIdentity: string }): Promise<SimulatedNsm> };
};
const { MessageKind, encodeMessage, decodeMessage } = (await import(
  new URL("../../enclave-bridge/src/protocol.ts", import.meta.url).href
)) as ProtocolModule;
const { encodeEnclaveIdentity } = (await import(
  new URL("../../enclave-bridge/src/identity.ts", import.meta.url).href
)) as IdentityModule;
const { EnclaveClient } = (await import(new URL("../../src/ai/enclave.ts", import.meta.url).href)) as {
  EnclaveClient: new (config: Record<string, unknown>, fetcher: typeof fetch) => EnclaveClient;
};

describe("an attestation document without the enclave's identity", () => {
  let nsm: SimulatedNsm;
  let config: Record<string, unknown>;

  beforeAll(async () => {
    nsm = await SimulatedNsm.create({ imageIdentity: "pulse-enclave@identity-test" });
    const pcrs = await nsm.describePcrs();
    config = {
      ENVIRONMENT: "test",
      ENCLAVE_BRIDGE_URL: "http://bridge.invalid",
      ENCLAVE_BRIDGE_TOKEN: "a-bridge-token-of-enough-length",
      ENCLAVE_PCR0: pcrs[0],
      ENCLAVE_PCR1: pcrs[1],
      ENCLAVE_PCR2: pcrs[2],
      ENCLAVE_ROOT_CERTIFICATE: nsm.developmentRootPem(),
      ENCLAVE_ROOT_SHA256: await nsm.developmentRootSha256(),
      ENCLAVE_MAX_AGE_SECONDS: 60,
      ENCLAVE_ATTESTATION_TTL_SECONDS: 0,
      ENCLAVE_ALLOW_NON_CONFIDENTIAL_MODEL: false,
    };
  });

  /** A parent proxy in front of the simulated NSM: attests with the caller's nonce and this user_data. */
  function bridgeWith(userData: Uint8Array | undefined): typeof fetch {
    return async (_input, init) => {
      const request = decodeMessage(new Uint8Array(init?.body as Uint8Array));
      if (request.kind !== MessageKind.ATTEST) return new Response(null, { status: 400 });
      const publicKey = crypto.getRandomValues(new Uint8Array(32));
      const document = await nsm.getAttestationDocument({
        publicKey,
        nonce: request.body,
        ...(userData === undefined ? {} : { userData }),
      });
      return new Response(new Uint8Array(encodeMessage(MessageKind.ATTESTATION, document)).buffer);
    };
  }

  it("is refused with reason NO_IDENTITY, with no user_data or with user_data that is not an identity", async () => {
    for (const userData of [undefined, new TextEncoder().encode('{"v":1,"model":"analyst"}')]) {
      await expect(new EnclaveClient(config, bridgeWith(userData)).attest()).rejects.toMatchObject({
        code: "ATTESTATION_FAILED",
        extensions: { reason: "NO_IDENTITY" },
      });
    }
  });

  it("is accepted once the same document names a receipt key and model", async () => {
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"])) as CryptoKeyPair;
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
    const receiptKey = Buffer.from(raw).toString("base64url");
    const model = { id: "pulse-analyst@test", kind: "analyst", confidential: true };
    const attested = await new EnclaveClient(config, bridgeWith(encodeEnclaveIdentity({ v: 1, receiptKey, model }))).attest();
    expect(attested.identity.model).toEqual(model);
  });
});
