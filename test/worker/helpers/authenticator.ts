/**
 * A software WebAuthn authenticator for workerd tests: one ES256 (P-256) credential, `none`
 * attestation, real registration and authentication responses that @simplewebauthn/server verifies
 * exactly as it verifies a browser's. Knobs break one thing at a time for the security tests.
 *
 * Formats: WebAuthn L3 §6.1 (authenticator data), §6.5.4 (`none` attestation), §5.8.1 (client
 * data); COSE_Key per RFC 9053 §7.1.1; CBOR per RFC 8949 (only what these structures need).
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";

type Cbor = number | string | Uint8Array | Cbor[] | Map<number | string, Cbor>;

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

export const DEFAULT_ORIGIN = "http://localhost:8787";
export const DEFAULT_RP_ID = "localhost";

export interface AuthenticatorInit {
  rpId?: string;
  origin?: string;
  /** BE flag: the credential may be synced (a "multi-device" passkey). */
  backupEligible?: boolean;
  /** BS flag: the credential is currently backed up. Needs `backupEligible`. */
  backedUp?: boolean;
  /** "increment" (default): each assertion counts up from 0; "zero": the counter stays 0. */
  counter?: "increment" | "zero";
  transports?: string[];
  /** Makes the private key exportable (`saveCredential`), for scripts that keep a dev passkey on disk. */
  extractable?: boolean;
}

/**
 * A software credential written to disk by `npm run dev:signup -- --save <file>` and read back by
 * dev:signin and dev:delete-account. For local development only: whoever reads the file holds the
 * passkey.
 */
export interface SavedCredential {
  format: "pulse-dev-passkey/1";
  credentialId: string;
  privateKeyJwk: JsonWebKey;
  userHandle: string;
  rpId: string;
  origin: string;
  signCount: number;
}

/** Each knob breaks one property of a ceremony; none set is a correct response. */
export interface CeremonyKnobs {
  origin?: string;
  rpId?: string;
  challenge?: string;
  /** Sets the UV flag; true by default. */
  userVerified?: boolean;
  /** The signature counter to report instead of the authenticator's own. */
  counter?: number;
  /** Flips one bit of the signature. */
  tamperSignature?: boolean;
  /** The user handle to report (null: none); the one from registration by default. */
  userHandle?: string | null;
  /** clientDataJSON `type`, e.g. "webauthn.create" in an assertion. */
  type?: string;
  backedUp?: boolean;
}

export class SoftwareAuthenticator {
  /** base64url credential id: what the server stores as the passkey id. */
  readonly credentialId: string;
  /** base64url user handle, learned from the registration options. */
  userHandle: string | undefined;
  signCount = 0;
  // Plain fields rather than parameter properties: scripts/dev-signup.mjs loads this file with
  // Node's type stripping, which supports only erasable TypeScript syntax.
  private readonly keys: CryptoKeyPair;
  private readonly rawId: Uint8Array;
  private readonly init: Required<AuthenticatorInit>;

  private constructor(keys: CryptoKeyPair, rawId: Uint8Array, init: Required<AuthenticatorInit>) {
    this.keys = keys;
    this.rawId = rawId;
    this.init = init;
    this.credentialId = toBase64url(rawId);
  }

  /** The origin this authenticator signs for (its client data's `origin`). */
  get origin(): string {
    return this.init.origin;
  }

  static async create(init: AuthenticatorInit = {}): Promise<SoftwareAuthenticator> {
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, init.extractable ?? false, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    return new SoftwareAuthenticator(keys, crypto.getRandomValues(new Uint8Array(32)), withDefaults(init));
  }

  /** The authenticator of a saved credential, ready to sign in with it (not to register it again). */
  static async restore(saved: SavedCredential): Promise<SoftwareAuthenticator> {
    if (saved?.format !== "pulse-dev-passkey/1") throw new TypeError("not a saved Pulse dev passkey");
    const { d: _private, key_ops: _ops, ...publicJwk } = saved.privateKeyJwk;
    const algorithm = { name: "ECDSA", namedCurve: "P-256" };
    const privateKey = await crypto.subtle.importKey("jwk", saved.privateKeyJwk, algorithm, true, ["sign"]);
    const publicKey = await crypto.subtle.importKey("jwk", publicJwk, algorithm, true, ["verify"]);
    const authenticator = new SoftwareAuthenticator(
      { privateKey, publicKey },
      fromBase64url(saved.credentialId),
      withDefaults({ rpId: saved.rpId, origin: saved.origin, extractable: true }),
    );
    authenticator.userHandle = saved.userHandle;
    authenticator.signCount = saved.signCount;
    return authenticator;
  }

  /** The credential as `restore` reads it; needs `extractable` and a registration done. */
  async saveCredential(): Promise<SavedCredential> {
    if (!this.userHandle) throw new Error("register the credential before saving it");
    return {
      format: "pulse-dev-passkey/1",
      credentialId: this.credentialId,
      privateKeyJwk: (await crypto.subtle.exportKey("jwk", this.keys.privateKey)) as JsonWebKey,
      userHandle: this.userHandle,
      rpId: this.init.rpId,
      origin: this.init.origin,
      // The server refuses a counter that does not increase, so the next use continues from here.
      signCount: this.signCount,
    };
  }

  /** navigator.credentials.create(), serialized as the browser's `toJSON()` would. */
  async register(options: PublicKeyCredentialCreationOptionsJSON, knobs: CeremonyKnobs = {}): Promise<RegistrationResponseJSON> {
    this.userHandle = options.user.id;
    const cose = await this.coseKey();
    const attested = concat(new Uint8Array(16), u16(this.rawId.byteLength), this.rawId, cose);
    const authData = concat(await this.authDataHead(knobs, FLAG_AT, knobs.counter ?? this.signCount), attested);
    const attestationObject = cbor(
      new Map<string, Cbor>([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]),
    );
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: "public-key",
      response: {
        clientDataJSON: this.clientData("webauthn.create", options.challenge, knobs),
        attestationObject: toBase64url(attestationObject),
        transports: this.init.transports,
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** navigator.credentials.get(), serialized as the browser's `toJSON()` would. */
  async authenticate(
    options: PublicKeyCredentialRequestOptionsJSON,
    knobs: CeremonyKnobs = {},
  ): Promise<AuthenticationResponseJSON> {
    if (this.init.counter === "increment") this.signCount += 1;
    const authData = await this.authDataHead(knobs, 0, knobs.counter ?? this.signCount);
    const clientDataJSON = this.clientData("webauthn.get", options.challenge, knobs);
    const signed = concat(authData, await sha256(fromBase64url(clientDataJSON)));
    const raw = new Uint8Array(
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, this.keys.privateKey, signed as Uint8Array<ArrayBuffer>),
    );
    const signature = rawToDer(raw);
    if (knobs.tamperSignature) signature[signature.length - 1] = (signature.at(-1) ?? 0) ^ 0x01;
    const userHandle = knobs.userHandle === undefined ? this.userHandle : knobs.userHandle;
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: "public-key",
      response: {
        clientDataJSON,
        authenticatorData: toBase64url(authData),
        signature: toBase64url(signature),
        ...(userHandle === null || userHandle === undefined ? {} : { userHandle }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  private clientData(type: string, challenge: string, knobs: CeremonyKnobs): string {
    const data = {
      type: knobs.type ?? type,
      challenge: knobs.challenge ?? challenge,
      origin: knobs.origin ?? this.init.origin,
      crossOrigin: false,
    };
    return toBase64url(new TextEncoder().encode(JSON.stringify(data)));
  }

  /** rpIdHash | flags | signCount (WebAuthn §6.1). */
  private async authDataHead(knobs: CeremonyKnobs, extraFlags: number, counter: number): Promise<Uint8Array> {
    let flags = FLAG_UP | extraFlags;
    if (knobs.userVerified ?? true) flags |= FLAG_UV;
    if (this.init.backupEligible) flags |= FLAG_BE;
    if (knobs.backedUp ?? this.init.backedUp) flags |= FLAG_BS;
    const rpIdHash = await sha256(new TextEncoder().encode(knobs.rpId ?? this.init.rpId));
    return concat(rpIdHash, Uint8Array.of(flags), u32(counter));
  }

  /** COSE_Key {kty: EC2, alg: ES256, crv: P-256, x, y} (RFC 9053 §7.1.1). */
  private async coseKey(): Promise<Uint8Array> {
    const raw = new Uint8Array((await crypto.subtle.exportKey("raw", this.keys.publicKey)) as ArrayBuffer);
    return cbor(
      new Map<number, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, raw.slice(1, 33)],
        [-3, raw.slice(33, 65)],
      ]),
    );
  }
}

function withDefaults(init: AuthenticatorInit): Required<AuthenticatorInit> {
  return {
    rpId: init.rpId ?? DEFAULT_RP_ID,
    origin: init.origin ?? DEFAULT_ORIGIN,
    backupEligible: init.backupEligible ?? false,
    backedUp: init.backedUp ?? false,
    counter: init.counter ?? "increment",
    transports: init.transports ?? ["internal", "hybrid"],
    extractable: init.extractable ?? false,
  };
}

/** Minimal deterministic CBOR encoder (RFC 8949 §3): ints, byte and text strings, arrays, maps. */
export function cbor(value: Cbor): Uint8Array {
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === "string") {
    const bytes = new TextEncoder().encode(value);
    return concat(head(3, bytes.byteLength), bytes);
  }
  if (value instanceof Uint8Array) return concat(head(2, value.byteLength), value);
  if (Array.isArray(value)) return concat(head(4, value.length), ...value.map(cbor));
  return concat(head(5, value.size), ...[...value].flatMap(([key, item]) => [cbor(key), cbor(item)]));
}

function head(major: number, length: number): Uint8Array {
  const type = major << 5;
  if (length < 24) return Uint8Array.of(type | length);
  if (length < 0x100) return Uint8Array.of(type | 24, length);
  if (length < 0x10000) return concat(Uint8Array.of(type | 25), u16(length));
  return concat(Uint8Array.of(type | 26), u32(length));
}

/** WebCrypto's ECDSA signature is r||s (IEEE P1363); WebAuthn wants ASN.1 DER (WebAuthn §6.5.6). */
export function rawToDer(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = bytes.slice(start);
    const body = (trimmed[0] ?? 0) & 0x80 ? concat(Uint8Array.of(0), trimmed) : trimmed;
    return concat(Uint8Array.of(0x02, body.length), body);
  };
  const r = integer(raw.slice(0, 32));
  const s = integer(raw.slice(32, 64));
  return concat(Uint8Array.of(0x30, r.length + s.length), r, s);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
const u32 = (n: number) => Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

export function toBase64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}
