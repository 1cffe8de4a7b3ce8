// The shared CBOR codec (enclave-bridge/src/cbor.ts) inside workerd, where code generation from
// strings is refused: the real AWS document, and the hostile inputs the verifier must refuse.
import { describe, expect, it } from "vitest";
import { CborError, type CborValue, decodeCbor, encodeCbor, isTagged } from "../../enclave-bridge/src/cbor.ts";
import { NITRO_ATTESTATION_B64 } from "./helpers/nitro-fixtures";

const fromBase64 = (value: string) => Uint8Array.from(atob(value), (char) => char.charCodeAt(0));
const fromHex = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
const toHex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

function asArray(value: CborValue): readonly CborValue[] {
  if (!Array.isArray(value)) throw new Error("expected an array");
  return value;
}

function asBytes(value: CborValue | undefined): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new Error("expected a byte string");
  return value;
}

describe("decodeCbor on the real AWS attestation document", () => {
  const document = fromBase64(NITRO_ATTESTATION_B64);

  it("reads the COSE_Sign1 and its payload as plain byte strings and maps", () => {
    const [protectedHeader, unprotected, payload, signature] = asArray(decodeCbor(document));
    expect(decodeCbor(asBytes(protectedHeader))).toEqual(new Map([[1, -35]]));
    expect(unprotected).toEqual(new Map());
    expect(asBytes(signature)).toHaveLength(96);
    const fields = decodeCbor(asBytes(payload));
    if (!(fields instanceof Map)) throw new Error("payload is not a map");
    expect([...fields.keys()]).toEqual([
      "module_id",
      "digest",
      "timestamp",
      "pcrs",
      "certificate",
      "cabundle",
      "public_key",
      "user_data",
      "nonce",
    ]);
    expect(fields.get("module_id")).toBe("i-0a22e5c5f24d22174-enc0191cceb4289903f");
    expect(fields.get("timestamp")).toBe(1725719859545);
    const pcrs = fields.get("pcrs");
    if (!(pcrs instanceof Map)) throw new Error("pcrs is not a map");
    expect(toHex(asBytes(pcrs.get(0)))).toMatch(/^e72a46ca80a260fb/);
    expect(asBytes(fields.get("nonce"))).toEqual(new Uint8Array(1024).fill(1));
  });

  it("re-encodes the document and its payload to the very same bytes", () => {
    const decoded = asArray(decodeCbor(document));
    expect(toHex(encodeCbor(decoded))).toBe(toHex(document));
    const payload = asBytes(decoded[2]);
    expect(toHex(encodeCbor(decodeCbor(payload)))).toBe(toHex(payload));
  });

  it("accepts the COSE_Sign1 tag 18 around the same array", () => {
    const tagged = new Uint8Array([0xd2, ...document]);
    const value = decodeCbor(tagged);
    if (!isTagged(value)) throw new Error("expected a tagged value");
    expect(value.tag).toBe(18);
    expect(asArray(value.value)).toHaveLength(4);
  });

  it("refuses the document cut short anywhere, or followed by another byte", () => {
    for (const length of [0, 1, 2, 100, 1000, document.length - 97, document.length - 1]) {
      expect(() => decodeCbor(document.subarray(0, length)), `cut at ${length}`).toThrow(CborError);
    }
    expect(() => decodeCbor(new Uint8Array([...document, 0x00]))).toThrow(/too many terminals/);
  });
});

describe("decodeCbor refuses what an attestation document never holds", () => {
  const hostile: [string, string, RegExp][] = [
    ["indefinite-length array", "9f01ff", /indefinite/],
    ["indefinite-length byte string", "5f4101ff", /indefinite/],
    ["a lone break", "ff", /indefinite/],
    ["half-precision float", "f93c00", /floats/],
    ["double-precision float", "fb3ff0000000000000", /floats/],
    ["undefined", "f7", /undefined/],
    ["simple value 16", "f0", /simple values are not supported/],
    ["reserved additional information", "1c", /invalid minor/],
    ["integer beyond 2^53", "1b0020000000000000", /safe integer/],
    ["negative integer beyond -2^53", "3b0020000000000000", /safe integer/],
    ["non-shortest integer head", "1817", /more bytes than necessary/],
    ["non-shortest length head", "59000161", /more bytes than necessary/],
    ["tag other than COSE_Sign1", "c11a514b67b0", /tag not supported/],
    ["duplicate map key", "a2616101616102", /repeat map key/],
    ["byte-string map key", "a1410001", /map keys must be integers or text/],
    ["array map key", "a18000", /map keys must be integers or text/],
    ["invalid UTF-8 text", "62c328", /UTF-8/],
    ["declared byte length beyond the input", "5a7fffffff00", /not enough data/],
    ["declared array length beyond the input", "9b001fffffffffffff", /not enough entries/],
    ["declared map length beyond the input", "bb001fffffffffffff", /not enough entries/],
    ["nesting deeper than 16", `${"81".repeat(17)}01`, /nesting too deep/],
  ];

  for (const [name, hex, message] of hostile) {
    it(`refuses ${name}`, () => {
      expect(() => decodeCbor(fromHex(hex))).toThrow(CborError);
      expect(() => decodeCbor(fromHex(hex))).toThrow(message);
    });
  }

  it("stops hostile nesting at its depth limit instead of exhausting the stack", () => {
    const deep = new Uint8Array(1_000_000).fill(0x81);
    expect(() => decodeCbor(deep)).toThrow(/nesting too deep/);
    expect(decodeCbor(fromHex(`${"81".repeat(16)}01`))).toBeInstanceOf(Array);
  });
});

describe("encodeCbor", () => {
  it("writes COSE's Sig_structure with plain byte strings (RFC 9052 §4.4)", () => {
    const structure = encodeCbor(["Signature1", fromHex("a10138"), new Uint8Array(0), fromHex("0102")]);
    expect(toHex(structure)).toBe("846a5369676e617475726531" + "43a10138" + "40" + "420102");
  });

  it("keeps map entries in the given order with shortest heads", () => {
    const map = new Map<number | string, CborValue>([
      ["b", 1],
      ["a", 24],
      [10, -25],
      [-1, fromHex("00".repeat(24))],
    ]);
    expect(toHex(encodeCbor(map))).toBe(`a4${"616201"}${"61611818"}${"0a3818"}${"20"}${"5818"}${"00".repeat(24)}`);
  });

  it("refuses numbers that are not safe integers and plain objects", () => {
    expect(() => encodeCbor(1.5)).toThrow(RangeError);
    expect(() => encodeCbor(2 ** 53)).toThrow(RangeError);
    expect(() => encodeCbor({ tag: 1, value: 2 })).toThrow(TypeError);
  });
});
