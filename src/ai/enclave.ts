/**
 * The Worker's side of the enclave bridge (DESIGN §9): fetch an attestation document with a fresh
 * nonce, verify it against the pinned root and PCRs, and only then seal a query to the public key it
 * carries. Verified attestations are cached per bridge (AttestationCache) so most queries cost one
 * round trip; when the enclave answers UNKNOWN_KEY (it restarted with a new key) the cache entry is
 * dropped and the query is sealed again to a freshly attested key, once. Every answer's receipt is
 * verified (./receipt.ts) before the answer is handed back.
 */
import { decodeEnclaveIdentity, type EnclaveIdentity } from "../../enclave-bridge/src/identity.ts";
import {
  attestRequest,
  decodeMessage,
  type EnclaveErrorCode,
  type EnclaveQuery,
  errorCodeOf,
  MessageKind,
  ProtocolError,
  type SealedAnswer,
  sealQuery,
  sha256Hex,
} from "../../enclave-bridge/src/protocol.ts";
import type { AnswerReceipt } from "../../enclave-bridge/src/receipt.ts";
import { ConfigError } from "../config/config";
import { DomainError } from "../errors/domain-error";
import { readAtMost } from "../http/read-at-most";
import {
  AttestationCache,
  type CachedAttestation,
  loadPinnedRoot,
  type PinnedRoot,
  type VerifiedAttestation,
  verifyAttestation,
} from "./attestation";
import type { AiConfig } from "./config";
import { checkAnswerReceipt } from "./receipt";

const NONCE_BYTES = 32;
const ATTEST_TIMEOUT_MS = 10_000;
const QUERY_TIMEOUT_MS = 90_000;
/** An attestation document is under 16 KiB and an answer a few; the parent is not trusted with more. */
const MAX_REPLY_BYTES = 1024 * 1024;

export interface Attested {
  readonly document: Uint8Array;
  readonly attestation: VerifiedAttestation;
  /** The receipt key and model the document's user_data names (enclave-bridge/src/identity.ts). */
  readonly identity: EnclaveIdentity;
  readonly nonce: Uint8Array;
  readonly verifiedAt: Date;
  /** SHA-256 of the pinned root the chain was verified to. */
  readonly rootSha256: string;
}

export interface EnclaveAnswer {
  readonly answer: string;
  readonly usedMetrics: string[];
  readonly figures: { label: string; value: number; unit: string }[];
  readonly attestation: VerifiedAttestation;
  readonly document: Uint8Array;
  readonly identity: EnclaveIdentity;
  readonly verifiedAt: Date;
  /** The enclave's signed receipt for this answer, verified. */
  readonly receipt: AnswerReceipt;
  /** SHA-256 (hex) of the receipt's signed bytes followed by its signature (enclave-bridge/src/receipt.ts). */
  readonly receiptSha256: string;
}

// Per isolate: roots parsed once per pinned certificate, verifications kept per bridge.
const roots = new Map<string, Promise<PinnedRoot>>();
const caches = new Map<number, AttestationCache>();

export class EnclaveClient {
  readonly #config: AiConfig;
  readonly #fetch: typeof fetch;
  readonly #key: string;

  constructor(config: AiConfig, fetcher: typeof fetch = (input, init) => fetch(input, init)) {
    this.#config = config;
    this.#fetch = fetcher;
    this.#key = [
      config.ENCLAVE_BRIDGE_URL,
      config.ENCLAVE_ROOT_SHA256,
      config.ENCLAVE_PCR0,
      config.ENCLAVE_PCR1,
      config.ENCLAVE_PCR2,
      String(config.ENCLAVE_ALLOW_NON_CONFIDENTIAL_MODEL),
    ].join("|");
  }

  /** A fresh attestation with this call's own nonce, verified; never from the cache. */
  async attest(now: () => Date = () => new Date()): Promise<Attested> {
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const reply = await this.#exchange(attestRequest(nonce), ATTEST_TIMEOUT_MS);
    if (reply.kind !== MessageKind.ATTESTATION)
      throw enclaveFailure(reply.kind === MessageKind.ERROR ? errorCodeOf(reply.body) : "BAD_MESSAGE");
    const document = reply.body.slice();
    const verifiedAt = now();
    const result = await verifyAttestation(document, {
      root: await this.#root(),
      expectedPcrs: { 0: this.#config.ENCLAVE_PCR0, 1: this.#config.ENCLAVE_PCR1, 2: this.#config.ENCLAVE_PCR2 },
      nonce,
      maxAgeMs: this.#config.ENCLAVE_MAX_AGE_SECONDS * 1000,
      now: verifiedAt,
    });
    if (!result.ok) {
      throw new DomainError("ATTESTATION_FAILED", `The enclave's attestation was refused: ${result.detail}`, {
        extensions: { reason: result.reason },
      });
    }
    const identity = decodeEnclaveIdentity(result.attestation.userData);
    if (identity === null) {
      throw new DomainError("ATTESTATION_FAILED", "The enclave's attestation does not name its receipt key and model", {
        extensions: { reason: "NO_IDENTITY" },
      });
    }
    // A model that sees plaintext outside attested hardware is refused where real data lives,
    // unless the operator has said, in a setting of its own, that this weaker promise is knowingly made.
    if (
      !identity.model.confidential &&
      this.#config.ENVIRONMENT === "production" &&
      !this.#config.ENCLAVE_ALLOW_NON_CONFIDENTIAL_MODEL
    ) {
      throw new DomainError(
        "ATTESTATION_FAILED",
        "The enclave answers with a model outside attested hardware, which this deployment does not allow (ENCLAVE_ALLOW_NON_CONFIDENTIAL_MODEL)",
        { extensions: { reason: "NON_CONFIDENTIAL_MODEL" } },
      );
    }
    return {
      document,
      attestation: result.attestation,
      identity,
      nonce,
      verifiedAt,
      rootSha256: this.#config.ENCLAVE_ROOT_SHA256,
    };
  }

  /**
   * A verified attestation of the bridge's enclave: cached while the TTL and the leaf certificate
   * allow, otherwise fetched and verified now. Call it before reading any data, so a refused
   * enclave never causes a read.
   */
  async session(): Promise<CachedAttestation> {
    const cache = this.#cache();
    const cached = cache?.get(this.#key, new Date());
    if (cached !== null && cached !== undefined) return cached;
    const { attestation, document, identity, verifiedAt } = await this.attest();
    cache?.set(this.#key, { attestation, document, identity }, verifiedAt);
    return { attestation, document, identity, verifiedAt };
  }

  /** Seals the query to the session's attested key, sends it, and opens the answer. */
  async ask(query: EnclaveQuery, session?: CachedAttestation): Promise<EnclaveAnswer> {
    session ??= await this.session();
    try {
      return await this.#ask(session, query);
    } catch (error) {
      if (!(error instanceof StaleKey)) throw error;
      this.#forget();
      return this.#ask(await this.session(), query);
    }
  }

  async #ask(session: CachedAttestation, asked: EnclaveQuery): Promise<EnclaveAnswer> {
    const publicKey = session.attestation.publicKey;
    // The receipt must name the document verified for this very session (a retry after a restart
    // seals to a new one), so the digest is taken here rather than by the caller.
    const query: EnclaveQuery = { ...asked, attestationSha256: await sha256Hex(session.document) };
    let sealed: Awaited<ReturnType<typeof sealQuery>>;
    try {
      sealed = await sealQuery(publicKey ?? new Uint8Array(0), query);
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.#forget();
        throw new DomainError("ATTESTATION_FAILED", "The attested enclave key is not an HPKE X25519 public key", {
          extensions: { reason: "BAD_KEY" },
        });
      }
      throw error;
    }
    const reply = await this.#exchange(sealed.message, QUERY_TIMEOUT_MS);
    if (reply.kind === MessageKind.ERROR) {
      const code = errorCodeOf(reply.body);
      if (code === "UNKNOWN_KEY") throw new StaleKey();
      throw enclaveFailure(code);
    }
    if (reply.kind !== MessageKind.ANSWER) throw enclaveFailure("BAD_MESSAGE");
    let answer: SealedAnswer;
    try {
      answer = await sealed.openAnswer(reply.body);
    } catch {
      throw enclaveFailure("DECRYPT_FAILED");
    }
    const { receipt, sha256 } = await checkAnswerReceipt(answer, {
      query,
      identity: session.identity,
      pcrs: { 0: this.#config.ENCLAVE_PCR0, 1: this.#config.ENCLAVE_PCR1, 2: this.#config.ENCLAVE_PCR2 },
      now: new Date(),
    });
    return {
      answer: answer.answer,
      usedMetrics: answer.usedMetrics,
      figures: answer.figures,
      attestation: session.attestation,
      document: session.document,
      identity: session.identity,
      verifiedAt: session.verifiedAt,
      receipt,
      receiptSha256: sha256,
    };
  }

  #forget(): void {
    this.#cache()?.delete(this.#key);
  }

  #cache(): AttestationCache | undefined {
    const ttlMs = this.#config.ENCLAVE_ATTESTATION_TTL_SECONDS * 1000;
    if (ttlMs === 0) return undefined;
    let cache = caches.get(ttlMs);
    if (cache === undefined) {
      cache = new AttestationCache(ttlMs);
      caches.set(ttlMs, cache);
    }
    return cache;
  }

  #root(): Promise<PinnedRoot> {
    const { ENCLAVE_ROOT_CERTIFICATE: certificate, ENCLAVE_ROOT_SHA256: sha256 } = this.#config;
    const key = `${sha256}|${certificate}`;
    let root = roots.get(key);
    if (root === undefined) {
      const source = certificate.includes("-----BEGIN")
        ? certificate
        : Uint8Array.from(atob(certificate), (c) => c.charCodeAt(0));
      // A root that does not parse or match its fingerprint is a configuration error (500, logged by name).
      root = loadPinnedRoot(source, sha256).catch(() => {
        roots.delete(key);
        throw new ConfigError(
          ["ENCLAVE_ROOT_CERTIFICATE", "ENCLAVE_ROOT_SHA256"],
          "Invalid configuration: ENCLAVE_ROOT_CERTIFICATE does not match ENCLAVE_ROOT_SHA256",
        );
      });
      roots.set(key, root);
    }
    return root;
  }

  async #exchange(message: Uint8Array, timeoutMs: number): Promise<{ kind: number; body: Uint8Array }> {
    let response: Response;
    try {
      response = await this.#fetch(`${this.#config.ENCLAVE_BRIDGE_URL}/v1/enclave`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.#config.ENCLAVE_BRIDGE_TOKEN}`, "content-type": "application/octet-stream" },
        body: message,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch {
      throw unavailable("The confidential AI enclave is unreachable");
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw unavailable(`The confidential AI bridge answered ${response.status}`);
    }
    if (Number(response.headers.get("content-length") ?? "0") > MAX_REPLY_BYTES) {
      await response.body?.cancel();
      throw enclaveFailure("BAD_MESSAGE");
    }
    const bytes = response.body === null ? new Uint8Array(0) : await readAtMost(response.body, MAX_REPLY_BYTES);
    if (bytes === null) throw enclaveFailure("BAD_MESSAGE");
    try {
      return decodeMessage(bytes);
    } catch {
      throw enclaveFailure("BAD_MESSAGE");
    }
  }
}

class StaleKey extends Error {}

function unavailable(detail: string): DomainError {
  return new DomainError("SERVICE_UNAVAILABLE", detail, { retryAfterSeconds: 30 });
}

function enclaveFailure(code: EnclaveErrorCode): DomainError {
  if (code === "BUSY")
    return new DomainError("SERVICE_UNAVAILABLE", "The confidential AI enclave is busy", { retryAfterSeconds: 5 });
  return new DomainError("ENCLAVE_FAILED", "The confidential AI enclave could not answer", { extensions: { reason: code } });
}
