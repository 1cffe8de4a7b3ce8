// A stand-in for the Nitro Security Module for local development. Documents follow the AWS Nitro
// Enclaves attestation document specification byte for byte in structure — COSE_Sign1 (RFC 9052
// §4.2) with ES384 — but chain to a generated development root instead of AWS Nitro root G1, so a
// production verifier refuses them and a local one pins developmentRootPem().
import { webcrypto } from "node:crypto";
import { type CborValue, encodeCbor } from "../cbor.ts";
import { type CertifiedKey, createDevelopmentRoot, createIntermediate, createLeaf, LEAF_LIFETIME_MS } from "./development-pki.ts";
import {
  type AttestationRequest,
  MAX_NONCE_BYTES,
  MAX_PUBLIC_KEY_BYTES,
  MAX_USER_DATA_BYTES,
  type Nsm,
  type PcrDescription,
} from "./nsm.ts";

const ES384 = -35;
const COSE_HEADER_ALG = 1;
/** Nitro reports PCR0-15; the ones it does not measure for us stay zero. */
const PCR_COUNT = 16;
const MEASURED_PCRS = [0, 1, 2] as const;
/** Reissue the leaf before it expires so a document never carries a certificate about to lapse. */
const LEAF_RENEWAL_MARGIN_MS = 30 * 60_000;

export interface SimulatedNsmOptions {
  /** Stands for the enclave image: PCR0-2 are derived from it, so the same identity pins the same PCRs. */
  readonly imageIdentity: string;
  readonly moduleId?: string;
  /** Reuse a root across restarts so the pinned fingerprint stays valid; generated when absent. */
  readonly root?: CertifiedKey;
  readonly clock?: () => Date;
}

export class SimulatedNsm implements Nsm {
  readonly #root: CertifiedKey;
  readonly #moduleId: string;
  readonly #pcrs: readonly Uint8Array[];
  readonly #clock: () => Date;
  #intermediate: CertifiedKey;
  #leaf: CertifiedKey;

  private constructor(options: Required<SimulatedNsmOptions>, pcrs: readonly Uint8Array[], chain: CertifiedKey[]) {
    const [intermediate, leaf] = chain;
    if (intermediate === undefined || leaf === undefined) throw new Error("incomplete development chain");
    this.#root = options.root;
    this.#moduleId = options.moduleId;
    this.#clock = options.clock;
    this.#pcrs = pcrs;
    this.#intermediate = intermediate;
    this.#leaf = leaf;
  }

  static async create(options: SimulatedNsmOptions): Promise<SimulatedNsm> {
    const clock = options.clock ?? (() => new Date());
    const now = clock();
    const moduleId = options.moduleId ?? "i-0000000000000000-enc0000000000000000";
    const root = options.root ?? (await createDevelopmentRoot(now));
    const intermediate = await createIntermediate(root, now);
    const leaf = await createLeaf(intermediate, moduleId, now);
    const pcrs = await derivePcrs(options.imageIdentity);
    return new SimulatedNsm({ imageIdentity: options.imageIdentity, moduleId, root, clock }, pcrs, [intermediate, leaf]);
  }

  developmentRootPem(): string {
    return this.#root.certificate.toString("pem");
  }

  /** Lower-case hex SHA-256 of the root's DER, the value the Worker pins next to the PEM. */
  async developmentRootSha256(): Promise<string> {
    return toHex(new Uint8Array(await webcrypto.subtle.digest("SHA-256", this.#root.certificate.rawData)));
  }

  async describePcrs(): Promise<PcrDescription> {
    const hex = (index: number) => toHex(this.#pcrs[index] ?? new Uint8Array());
    return { 0: hex(0), 1: hex(1), 2: hex(2) };
  }

  async getAttestationDocument(request: AttestationRequest): Promise<Uint8Array> {
    checkSize("public_key", request.publicKey, MAX_PUBLIC_KEY_BYTES);
    checkSize("user_data", request.userData, MAX_USER_DATA_BYTES);
    checkSize("nonce", request.nonce, MAX_NONCE_BYTES);
    const now = this.#clock();
    await this.#renew(now);

    const payload = encodeCbor(
      new Map<string, CborValue>([
        ["module_id", this.#moduleId],
        ["digest", "SHA384"],
        ["timestamp", now.getTime()],
        ["pcrs", new Map(this.#pcrs.map((value, index) => [index, value]))],
        ["certificate", der(this.#leaf)],
        ["cabundle", [der(this.#root), der(this.#intermediate)]],
        ["public_key", request.publicKey ?? null],
        ["user_data", request.userData ?? null],
        ["nonce", request.nonce ?? null],
      ]),
    );
    const protectedHeader = encodeCbor(new Map([[COSE_HEADER_ALG, ES384]]));
    // RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload].
    const toBeSigned = encodeCbor(["Signature1", protectedHeader, new Uint8Array(), payload]);
    // WebCrypto ECDSA signatures are raw r‖s, the COSE form (RFC 9053 §2.1): 96 bytes for P-384.
    const signature = await webcrypto.subtle.sign({ name: "ECDSA", hash: "SHA-384" }, this.#leaf.keys.privateKey, toBeSigned);
    return encodeCbor([protectedHeader, new Map(), payload, new Uint8Array(signature)]);
  }

  async #renew(now: Date): Promise<void> {
    const needed = now.getTime() + LEAF_LIFETIME_MS;
    if (this.#intermediate.certificate.notAfter.getTime() < needed) {
      this.#intermediate = await createIntermediate(this.#root, now);
      this.#leaf = await createLeaf(this.#intermediate, this.#moduleId, now);
    } else if (this.#leaf.certificate.notAfter.getTime() < now.getTime() + LEAF_RENEWAL_MARGIN_MS) {
      this.#leaf = await createLeaf(this.#intermediate, this.#moduleId, now);
    }
  }
}

async function derivePcrs(imageIdentity: string): Promise<Uint8Array[]> {
  const pcrs: Uint8Array[] = Array.from({ length: PCR_COUNT }, () => new Uint8Array(48));
  for (const index of MEASURED_PCRS) {
    const label = new TextEncoder().encode(`pulse-simulated-nsm/pcr${index}/${imageIdentity}`);
    pcrs[index] = new Uint8Array(await webcrypto.subtle.digest("SHA-384", label));
  }
  return pcrs;
}

function checkSize(field: string, value: Uint8Array | undefined, max: number): void {
  if (value !== undefined && value.length > max) throw new RangeError(`${field} exceeds ${max} bytes`);
}

function der(certified: CertifiedKey): Uint8Array {
  return new Uint8Array(certified.certificate.rawData);
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
