import assert from "node:assert/strict";
import { webcrypto, X509Certificate } from "node:crypto";
import { before, describe, it } from "node:test";
import {
  type CborValue,
  createDevelopmentRoot,
  decodeCbor,
  encodeCbor,
  exportDevelopmentRoot,
  importDevelopmentRoot,
  LEAF_LIFETIME_MS,
  SimulatedNsm,
} from "../src/nsm/index.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

async function certificatesOf(nsm: SimulatedNsm): Promise<{ leaf: X509Certificate; bundle: X509Certificate[] }> {
  const [, , payload] = decodeCbor(await nsm.getAttestationDocument({})) as CborValue[];
  const fields = asMap(decodeCbor(asBytes(payload)));
  const bundle = fields.get("cabundle");
  assert.ok(Array.isArray(bundle));
  return {
    leaf: new X509Certificate(asBytes(fields.get("certificate"))),
    bundle: bundle.map((der: CborValue) => new X509Certificate(asBytes(der))),
  };
}

function asMap(value: CborValue | undefined): ReadonlyMap<number | string, CborValue> {
  assert.ok(value instanceof Map, "expected a CBOR map");
  return value;
}

function asBytes(value: CborValue | undefined): Uint8Array {
  assert.ok(value instanceof Uint8Array, "expected a CBOR byte string");
  return value;
}

describe("CBOR encoder", () => {
  it("matches RFC 8949 Appendix A vectors", () => {
    const vectors: [CborValue, string][] = [
      [0, "00"],
      [23, "17"],
      [24, "1818"],
      [1000, "1903e8"],
      [1_000_000, "1a000f4240"],
      [1_000_000_000_000, "1b000000e8d4a51000"],
      [-1, "20"],
      [-35, "3822"],
      [-1000, "3903e7"],
      ["IETF", "6449455446"],
      [Uint8Array.of(1, 2, 3, 4), "4401020304"],
      [null, "f6"],
      [[1, [2, 3], [4, 5]], "8301820203820405"],
      [
        new Map<number | string, CborValue>([
          ["a", 1],
          ["b", [2, 3]],
        ]),
        "a26161016162820203",
      ],
    ];
    for (const [value, expected] of vectors) {
      assert.equal(hex(encodeCbor(value)), expected);
      assert.deepEqual(decodeCbor(encodeCbor(value)), value);
    }
  });
});

describe("SimulatedNsm", () => {
  let nsm: SimulatedNsm;
  before(async () => {
    nsm = await SimulatedNsm.create({ imageIdentity: "pulse-enclave@test" });
  });

  it("produces an ES384 COSE_Sign1 carrying the AWS attestation fields", async () => {
    const publicKey = webcrypto.getRandomValues(new Uint8Array(32));
    const nonce = webcrypto.getRandomValues(new Uint8Array(16));
    const document = decodeCbor(await nsm.getAttestationDocument({ publicKey, nonce }));
    assert.ok(Array.isArray(document) && document.length === 4);
    const [protectedHeader, unprotected, payloadBytes, signature] = document;
    assert.deepEqual(decodeCbor(asBytes(protectedHeader)), new Map([[1, -35]]));
    assert.equal(asMap(unprotected).size, 0);
    assert.equal(asBytes(signature).length, 96);

    const payload = asMap(decodeCbor(asBytes(payloadBytes)));
    assert.deepEqual(
      [...payload.keys()],
      ["module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle", "public_key", "user_data", "nonce"],
    );
    assert.equal(payload.get("digest"), "SHA384");
    assert.equal(typeof payload.get("timestamp"), "number");
    assert.deepEqual(payload.get("public_key"), publicKey);
    assert.deepEqual(payload.get("nonce"), nonce);
    assert.equal(payload.get("user_data"), null);

    const pcrs = asMap(payload.get("pcrs"));
    const described = await nsm.describePcrs();
    assert.equal(hex(asBytes(pcrs.get(0))), described[0]);
    assert.equal(hex(asBytes(pcrs.get(2))), described[2]);
    for (const value of pcrs.values()) assert.equal(asBytes(value).length, 48);

    const cabundle = payload.get("cabundle");
    assert.ok(Array.isArray(cabundle) && cabundle.length === 2);
    const root = new X509Certificate(asBytes(cabundle[0]));
    assert.equal(root.toString().trim(), nsm.developmentRootPem().trim());
    const leaf = new X509Certificate(asBytes(payload.get("certificate")));
    assert.ok(leaf.checkIssued(new X509Certificate(asBytes(cabundle[1]))));
  });

  it("signs the RFC 9052 Sig_structure with the leaf certificate's key", async () => {
    const bytes = await nsm.getAttestationDocument({ userData: new TextEncoder().encode("hello") });
    const [protectedHeader, , payload, signature] = decodeCbor(bytes) as CborValue[];
    const leafDer = asBytes(asMap(decodeCbor(asBytes(payload))).get("certificate"));
    const key = await webcrypto.subtle.importKey(
      "spki",
      new X509Certificate(leafDer).publicKey.export({ type: "spki", format: "der" }),
      { name: "ECDSA", namedCurve: "P-384" },
      false,
      ["verify"],
    );
    const toBeSigned = encodeCbor(["Signature1", asBytes(protectedHeader), new Uint8Array(), asBytes(payload)]);
    const algorithm = { name: "ECDSA", hash: "SHA-384" };
    assert.equal(await webcrypto.subtle.verify(algorithm, key, asBytes(signature), toBeSigned), true);
    const tampered = asBytes(signature).slice();
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    assert.equal(await webcrypto.subtle.verify(algorithm, key, tampered, toBeSigned), false);
  });

  it("derives the same PCRs from the same image identity and different ones from another", async () => {
    const same = await SimulatedNsm.create({ imageIdentity: "pulse-enclave@test" });
    const other = await SimulatedNsm.create({ imageIdentity: "pulse-enclave@other" });
    assert.deepEqual(await same.describePcrs(), await nsm.describePcrs());
    assert.notEqual((await other.describePcrs())[0], (await nsm.describePcrs())[0]);
  });

  it("refuses a nonce larger than the specification allows", async () => {
    await assert.rejects(nsm.getAttestationDocument({ nonce: new Uint8Array(513) }), RangeError);
  });

  it("keeps a saved development root, so the pinned fingerprint survives a restart", async () => {
    const stored = await exportDevelopmentRoot(await createDevelopmentRoot(new Date()));
    const first = await SimulatedNsm.create({ imageIdentity: "x", root: await importDevelopmentRoot(stored) });
    const second = await SimulatedNsm.create({ imageIdentity: "x", root: await importDevelopmentRoot(stored) });
    assert.equal(await first.developmentRootSha256(), await second.developmentRootSha256());
    const { bundle } = await certificatesOf(second);
    const [root, intermediate] = bundle;
    assert.ok(root !== undefined && intermediate !== undefined);
    assert.ok(intermediate.verify(root.publicKey), "a reimported root key still signs intermediates");
  });

  it("issues a fresh leaf once the current one nears expiry", async () => {
    let now = new Date();
    const ageing = await SimulatedNsm.create({ imageIdentity: "x", clock: () => now });
    const before = (await certificatesOf(ageing)).leaf;
    now = new Date(now.getTime() + LEAF_LIFETIME_MS);
    const after = (await certificatesOf(ageing)).leaf;
    assert.notEqual(after.serialNumber, before.serialNumber);
    assert.ok(new Date(after.validTo).getTime() > now.getTime());
  });
});
