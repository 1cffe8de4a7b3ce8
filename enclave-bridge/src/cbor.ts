// The one CBOR codec (RFC 8949) of Pulse's confidential-AI path: the enclave's Nitro Security Module
// code encodes attestation documents with it, and the Worker's attestation verifier decodes them
// with it. Like protocol.ts, it lives in the bridge package and the Worker imports it, so both
// sides read and write CBOR under the same rules; it depends on nothing but the `cborg` library,
// which builds no code from strings (workerd refuses eval and new Function during a request).
//
// Only the subset an attestation document (COSE_Sign1, RFC 9052 §4.2) needs is accepted: integers
// within ±2^53, byte and text strings, arrays, maps keyed by integers or text, true, false, null,
// and tag 18 (COSE_Sign1). Decoding refuses everything else, because a verifier that reads one
// byte string two ways can be fooled: indefinite lengths, floats, undefined, other tags and simple
// values, non-shortest integer or length heads, duplicate map keys, invalid UTF-8, nesting deeper
// than MAX_DEPTH, truncation and trailing bytes.
//
// Encoding writes shortest-form heads and definite lengths only (the preferred serialization of
// RFC 8949 §4.1, so a verifier re-encoding the same values gets the same bytes), byte strings as
// plain byte strings (never a typed-array tag, which would corrupt COSE's Sig_structure), and map
// entries in the order given: the NSM writes the attestation document's fields in the order AWS's
// specification lists them, as the real Nitro Security Module does.
import { type DecodeOptions, decode, type EncodeOptions, encode, Tagged, type Token, Tokenizer, Type } from "cborg";

export type CborValue = number | string | boolean | null | Uint8Array | readonly CborValue[] | CborMap | CborTagged;
export type CborMap = ReadonlyMap<number | string, CborValue>;

/** A tagged item (RFC 8949 §3.4); only COSE_Sign1's tag 18 is decoded. */
export interface CborTagged {
  readonly tag: number;
  readonly value: CborValue;
}

export class CborError extends Error {
  override readonly name = "CborError";
}

/** COSE_Sign1 (RFC 9052 §2): Nitro emits it untagged, but the tagged form is the same message. */
export const COSE_SIGN1_TAG = 18;

/** Arrays, maps and tags open inside one another; an attestation document nests 2 deep. */
const MAX_DEPTH = 16;

const DECODE_OPTIONS: DecodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowBigInt: false,
  allowInfinity: false,
  allowNaN: false,
  useMaps: true,
  rejectDuplicateMapKeys: true,
  retainStringBytes: true,
  tags: { [COSE_SIGN1_TAG]: Tagged.decoder(COSE_SIGN1_TAG) },
};

const ENCODE_OPTIONS: EncodeOptions = {
  // No sorter: entries keep the caller's order (see the header comment).
  mapSorter: undefined,
  typeEncoders: {
    number: (value: number) => {
      if (!Number.isSafeInteger(value)) throw new RangeError("CBOR encoder accepts safe integers only");
      return null;
    },
    // A plain object has no CBOR form here: maps are Maps, tags are decoded Tagged values.
    Object: () => {
      throw new TypeError("CBOR encoder accepts Maps, not plain objects");
    },
  },
};

/** Decodes exactly one CBOR data item under the rules above; throws CborError otherwise. */
export function decodeCbor(bytes: Uint8Array): CborValue {
  // A plain view of a Node Buffer, so decoded byte strings are plain Uint8Arrays on either side.
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return decode(data, { ...DECODE_OPTIONS, tokenizer: new GuardedTokenizer(data, DECODE_OPTIONS) }) as CborValue;
  } catch (error) {
    if (error instanceof CborError) throw error;
    // cborg's messages name the rule that failed ("not enough data", "repeat map key", ...).
    throw new CborError(error instanceof Error ? error.message : "malformed CBOR");
  }
}

/** Encodes a value of the same subset; throws RangeError for a number that is not a safe integer. */
export function encodeCbor(value: CborValue): Uint8Array {
  // cborg writes into a reused (in Node, pooled Buffer) chunk: copy out exactly the encoded bytes.
  return new Uint8Array(encode(value, ENCODE_OPTIONS));
}

export function isTagged(value: CborValue): value is CborTagged {
  return value instanceof Tagged;
}

/**
 * cborg's tokenizer with the checks cborg leaves to its caller: nesting depth (counted before the
 * recursive decoder descends, so hostile nesting cannot exhaust the stack), map key types, floats
 * and strict UTF-8.
 */
class GuardedTokenizer extends Tokenizer {
  /** Items still to come in each open array, map (keys and values) or tag, innermost last. */
  readonly #open: { remaining: number; readonly isMap: boolean }[] = [];

  override next(): Token {
    const token = super.next();
    const parent = this.#open.at(-1);
    if (parent !== undefined) {
      const isKey = parent.isMap && parent.remaining % 2 === 0;
      parent.remaining--;
      if (isKey && !isKeyType(token)) throw new CborError("CBOR map keys must be integers or text");
    }
    checkToken(token);
    const items = containedItems(token);
    if (items > 0) {
      this.#open.push({ remaining: items, isMap: Type.equals(token.type, Type.map) });
      if (this.#open.length > MAX_DEPTH) throw new CborError("CBOR nesting too deep");
    }
    for (let top = this.#open.at(-1); top !== undefined && top.remaining === 0; top = this.#open.at(-1)) this.#open.pop();
    return token;
  }
}

function isKeyType(token: Token): boolean {
  return Type.equals(token.type, Type.uint) || Type.equals(token.type, Type.negint) || Type.equals(token.type, Type.string);
}

function checkToken(token: Token): void {
  if (Type.equals(token.type, Type.float)) throw new CborError("CBOR floats are not accepted");
  // cborg decodes text leniently (invalid sequences become U+FFFD); RFC 8949 §3.1 requires valid UTF-8.
  if (Type.equals(token.type, Type.string) && token.byteValue !== undefined && (token.value as string).includes("\uFFFD")) {
    try {
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(token.byteValue);
    } catch {
      throw new CborError("CBOR text is not valid UTF-8");
    }
  }
}

function containedItems(token: Token): number {
  if (Type.equals(token.type, Type.array)) return token.value as number;
  if (Type.equals(token.type, Type.map)) return 2 * (token.value as number);
  if (Type.equals(token.type, Type.tag)) return 1;
  return 0;
}
