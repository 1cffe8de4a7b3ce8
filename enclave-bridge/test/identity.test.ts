import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeEnclaveIdentity, type EnclaveIdentity, encodeEnclaveIdentity } from "../src/identity.ts";
import { canonicalJson } from "../src/protocol.ts";

const KEY = "B".repeat(87);
const analyst: EnclaveIdentity = { v: 1, receiptKey: KEY, model: { id: "pulse-analyst@3", kind: "analyst", confidential: true } };
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe("enclave identity in user_data", () => {
  it("round-trips within the NSM's 512 bytes", () => {
    const encoded = encodeEnclaveIdentity(analyst);
    assert.ok(encoded.byteLength <= 512);
    assert.deepEqual(decodeEnclaveIdentity(encoded), analyst);
    const remote: EnclaveIdentity = { ...analyst, model: { id: "openai:m", kind: "remote", confidential: false } };
    assert.deepEqual(decodeEnclaveIdentity(encodeEnclaveIdentity(remote)), remote);
  });

  it("reads nothing from absent, foreign or malformed user_data", () => {
    assert.equal(decodeEnclaveIdentity(null), null);
    assert.equal(decodeEnclaveIdentity(new Uint8Array(0)), null);
    assert.equal(decodeEnclaveIdentity(new Uint8Array([0xff, 0xfe])), null);
    assert.equal(decodeEnclaveIdentity(bytes({ ...analyst, v: 2 })), null);
    assert.equal(decodeEnclaveIdentity(bytes({ ...analyst, receiptKey: "short" })), null);
    assert.equal(decodeEnclaveIdentity(bytes({ ...analyst, model: { ...analyst.model, kind: "oracle" } })), null);
  });

  it("refuses a confidentiality claim its kind cannot make, either way", () => {
    const claims = [
      { id: "openai:m", kind: "remote", confidential: true },
      { id: "pulse-analyst@3", kind: "analyst", confidential: false },
    ] as const;
    for (const model of claims) {
      assert.equal(decodeEnclaveIdentity(bytes({ ...analyst, model })), null);
      assert.throws(() => encodeEnclaveIdentity({ ...analyst, model }), TypeError);
    }
  });

  it("refuses an identity too long for user_data", () => {
    assert.throws(() => encodeEnclaveIdentity({ ...analyst, model: { ...analyst.model, id: "x".repeat(201) } }), TypeError);
  });
});

describe("canonicalJson", () => {
  it("gives the same text for the same value whatever the key order", () => {
    assert.equal(canonicalJson({ b: [2, { d: 1, c: null }], a: "x" }), '{"a":"x","b":[2,{"c":null,"d":1}]}');
    assert.equal(canonicalJson({ a: 1, b: undefined }), canonicalJson({ a: 1 }));
  });
});
