// The real Nitro Security Module (DESIGN §9). The NSM is the /dev/nsm device, driven by an ioctl
// that Node cannot issue, so each request runs the small `pulse-nsm` helper (enclave-bridge/nsm-helper,
// built on aws-nitro-enclaves-nsm-api) without a shell:
//   pulse-nsm attest [--public-key HEX] [--nonce HEX] [--user-data HEX]  → COSE_Sign1 bytes on stdout
//   pulse-nsm describe-pcrs                                              → {"0":"hex","1":"hex","2":"hex"}
// Exit status 2 means it rejected its arguments, 3 that /dev/nsm could not be opened, 4 that the NSM
// refused the request. Errors name the failure, never the arguments.
import { type ExecFileException, execFile } from "node:child_process";
import { decodeCbor } from "../cbor.ts";
import {
  type AttestationRequest,
  MAX_NONCE_BYTES,
  MAX_PUBLIC_KEY_BYTES,
  MAX_USER_DATA_BYTES,
  type Nsm,
  type PcrDescription,
} from "./nsm.ts";

export interface NitroNsmOptions {
  readonly helperPath?: string;
  readonly timeoutMs?: number;
  /** The NSM answers in at most 12 KiB (NSM_RESPONSE_MAX_SIZE); anything much larger is not a document. */
  readonly maxOutputBytes?: number;
}

export class NitroNsmError extends Error {
  override name = "NitroNsmError";
}

const DEFAULT_HELPER_PATH = "/usr/local/bin/pulse-nsm";
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
/** Nitro measures with SHA-384, so every PCR is 48 bytes. */
const PCR_HEX = /^[0-9a-f]{96}$/;
const EXIT_REASONS = new Map([
  [2, "rejected its arguments"],
  [3, "could not open /dev/nsm"],
  [4, "was refused by the NSM"],
]);

export class NitroNsm implements Nsm {
  readonly #helperPath: string;
  readonly #timeoutMs: number;
  readonly #maxOutputBytes: number;

  constructor(options: NitroNsmOptions = {}) {
    this.#helperPath = options.helperPath ?? DEFAULT_HELPER_PATH;
    this.#timeoutMs = positiveInteger("timeoutMs", options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.#maxOutputBytes = positiveInteger("maxOutputBytes", options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
  }

  async getAttestationDocument(request: AttestationRequest): Promise<Uint8Array> {
    const args = ["attest"];
    for (const [field, flag, value, max] of [
      ["public_key", "--public-key", request.publicKey, MAX_PUBLIC_KEY_BYTES],
      ["nonce", "--nonce", request.nonce, MAX_NONCE_BYTES],
      ["user_data", "--user-data", request.userData, MAX_USER_DATA_BYTES],
    ] as const) {
      if (value === undefined) continue;
      // Checked here, before anything is spawned, as SimulatedNsm does; the NSM would refuse them too.
      if (value.length > max) throw new RangeError(`${field} exceeds ${max} bytes`);
      args.push(flag, Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex"));
    }
    const document = await this.#run(args);
    if (!isCoseSign1(document)) throw new NitroNsmError("NSM helper attest printed a malformed attestation document");
    return document;
  }

  async describePcrs(): Promise<PcrDescription> {
    const output = await this.#run(["describe-pcrs"]);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(output));
    } catch {
      throw new NitroNsmError("NSM helper describe-pcrs printed malformed JSON");
    }
    const pcrs = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
    const [pcr0, pcr1, pcr2] = [pcrs["0"], pcrs["1"], pcrs["2"]];
    if (!isPcr(pcr0) || !isPcr(pcr1) || !isPcr(pcr2)) throw new NitroNsmError("NSM helper describe-pcrs printed malformed PCRs");
    return { 0: pcr0, 1: pcr1, 2: pcr2 };
  }

  #run(args: string[]): Promise<Uint8Array> {
    const [command] = args;
    return new Promise((resolve, reject) => {
      execFile(
        this.#helperPath,
        args,
        { encoding: "buffer", timeout: this.#timeoutMs, killSignal: "SIGKILL", maxBuffer: this.#maxOutputBytes, shell: false },
        (error, stdout) => {
          // A copy: a small Buffer may be a view into Node's shared pool.
          if (error === null) resolve(new Uint8Array(stdout));
          // Node's own message quotes the command line; only the structured fields are used.
          else reject(new NitroNsmError(`NSM helper ${command} ${this.#reason(error)}`));
        },
      );
    });
  }

  #reason(error: ExecFileException): string {
    if (error.code === "ENOENT") return `not found at ${this.#helperPath}`;
    if (error.code === "EACCES") return `not executable at ${this.#helperPath}`;
    if (error.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") return `printed more than ${this.#maxOutputBytes} bytes`;
    if (error.killed === true) return `timeout after ${this.#timeoutMs} ms`;
    if (typeof error.code === "number") return EXIT_REASONS.get(error.code) ?? `failed with exit status ${error.code}`;
    return error.signal ? `was killed by ${error.signal}` : "failed to run";
  }
}

/** RFC 9052 §4.2: [protected: bstr, unprotected: map, payload: bstr, signature: bstr], untagged as Nitro emits it. */
function isCoseSign1(bytes: Uint8Array): boolean {
  let value: unknown;
  try {
    value = decodeCbor(bytes);
  } catch {
    return false;
  }
  if (!Array.isArray(value) || value.length !== 4) return false;
  const [protectedHeader, unprotected, payload, signature] = value;
  return (
    protectedHeader instanceof Uint8Array &&
    unprotected instanceof Map &&
    payload instanceof Uint8Array &&
    signature instanceof Uint8Array &&
    payload.length > 0
  );
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`NitroNsm ${name} must be a positive integer`);
  return value;
}

function isPcr(value: unknown): value is string {
  return typeof value === "string" && PCR_HEX.test(value);
}
