/**
 * The attestation of a model endpoint outside the enclave (docs/enclave-deployment.md, "An attested
 * model endpoint"). The enclave sends a model the question and the data in plaintext inside TLS, and
 * TLS ends at the endpoint, so the enclave only does so to an endpoint that proves, over the same
 * TLS key, that it is a trusted execution environment running pinned code:
 *
 *   GET {baseUrl}/attestation?nonce=<64 hex>  →  200 application/json
 *   { "format": "pulse-remote-attestation/v1",
 *     "report": base64url(JSON bytes of { nonce, timestamp, model, measurements, tlsSpkiSha256 }),
 *     "signature": base64url(ECDSA over the report bytes, P-256/SHA-256 or P-384/SHA-384, r‖s),
 *     "certificates": [base64 DER, leaf first, each signed by the next; the last signed by — or
 *                      byte-identical to — the pinned root] }
 *
 * The shape follows how confidential-inference services publish attestation: a fresh report per
 * caller nonce, signed by a key certified by an X.509 chain to a vendor root (NVIDIA's NRAS tokens,
 * Intel TDX quotes with their PCK chain), named measurements (MRTD/RTMRs, GPU firmware), and the
 * fingerprint of the endpoint's TLS key inside the signed report so the TLS session that carries the
 * question is bound to the attested TEE (Tinfoil compares TLS SPKI fingerprints to the attested
 * report data). The signature covers the exact report bytes, so no canonical form is needed.
 *
 * Runs in the enclave (Node); it uses WebCrypto and @peculiar/x509 only.
 */
// tsyringe, which @peculiar/x509 uses internally, needs the Reflect metadata polyfill first.
import "reflect-metadata";
import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, X509Certificate } from "@peculiar/x509";
import { fromBase64url } from "../identity.ts";
import { canonicalJson, sha256Hex } from "../protocol.ts";
import { ModelError } from "./provider.ts";

export const REMOTE_ATTESTATION_FORMAT = "pulse-remote-attestation/v1";
export const REMOTE_ATTESTATION_PATH = "/attestation";
/** An attestation is a few KiB; the endpoint is not trusted with more. */
export const MAX_ATTESTATION_BYTES = 64 * 1024;
const MAX_CERTIFICATES = 5;
const MAX_MEASUREMENTS = 32;
/** A report older than this is refused even with the right nonce: the endpoint's clock is off or it replays. */
export const DEFAULT_MAX_REPORT_AGE_MS = 60_000;
/** Clocks inside a TEE and an enclave drift; a report this far in the future is still accepted. */
const MAX_FUTURE_SKEW_MS = 30_000;

/** Named measurements (e.g. `mrtd`, `rtmr0`, `gpu_firmware`) → lower-case hex. */
export type Measurements = Readonly<Record<string, string>>;

export interface RemoteAttestationReport {
  /** The caller's nonce, hex. */
  readonly nonce: string;
  /** When the TEE produced the report, ISO 8601. */
  readonly timestamp: string;
  /** The model the endpoint serves. */
  readonly model: string;
  readonly measurements: Measurements;
  /** SHA-256 (hex) of the DER SubjectPublicKeyInfo of the endpoint's TLS key. */
  readonly tlsSpkiSha256: string;
}

export const REMOTE_ATTESTATION_FAILURES = [
  "MALFORMED",
  "UNTRUSTED_ROOT",
  "BAD_CHAIN",
  "BAD_SIGNATURE",
  "WRONG_NONCE",
  "STALE",
  "WRONG_MODEL",
  "WRONG_MEASUREMENTS",
  "TLS_KEY_NOT_ATTESTED",
] as const;
export type RemoteAttestationFailure = (typeof REMOTE_ATTESTATION_FAILURES)[number];

/** Why a model endpoint's attestation was refused. Carries no plaintext: nothing was sent yet. */
export class RemoteAttestationError extends ModelError {
  override name = "RemoteAttestationError";
  readonly reason: RemoteAttestationFailure;

  constructor(reason: RemoteAttestationFailure, detail: string) {
    super(`model endpoint attestation refused (${reason}): ${detail}`);
    this.reason = reason;
  }
}

export interface PinnedModelRoot {
  readonly certificate: X509Certificate;
  /** Lower-case hex SHA-256 of the root's DER encoding. */
  readonly sha256: string;
}

/** The root the endpoint's chain must end at, from PEM or DER. Throws TypeError on anything else. */
export async function loadModelRoot(source: string | Uint8Array): Promise<PinnedModelRoot> {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(typeof source === "string" ? source : source.slice());
  } catch {
    throw new TypeError("model attestation root is not an X.509 certificate (PEM or DER)");
  }
  const constraints = certificate.getExtension(BasicConstraintsExtension);
  if (constraints === null || !constraints.ca) throw new TypeError("model attestation root is not a CA certificate");
  return { certificate, sha256: await sha256Hex(new Uint8Array(certificate.rawData)) };
}

/** Parses a measurements file: a JSON object of names to hex digests. Throws TypeError with the reason. */
export function parseMeasurements(text: string): Measurements {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TypeError("model measurements must be a JSON object");
  }
  const problem = measurementsProblem(value);
  if (problem !== null) throw new TypeError(`model measurements: ${problem}`);
  return normalise(value as Record<string, string>);
}

/** First 16 hex digits of SHA-256 over the measurements' canonical JSON: names them in a model id. */
export async function measurementsDigest(measurements: Measurements): Promise<string> {
  return (await sha256Hex(canonicalJson(normalise(measurements)))).slice(0, 16);
}

export interface ExpectedAttestation {
  readonly root: PinnedModelRoot;
  readonly measurements: Measurements;
  readonly model: string;
  /** The nonce sent with this request, hex. */
  readonly nonce: string;
  readonly now: Date;
  readonly maxAgeMs?: number;
}

/**
 * Verifies an attestation response body: format, chain to the pinned root, signature, nonce,
 * freshness, model and measurements, in that order. Returns the report or throws a
 * RemoteAttestationError naming the first failure.
 */
export async function verifyRemoteAttestation(body: string, expected: ExpectedAttestation): Promise<RemoteAttestationReport> {
  const envelope = parseEnvelope(body);
  const leaf = await verifyCertificates(envelope.certificates, expected.root, expected.now);
  if (!(await signatureVerifies(leaf, envelope.signature, envelope.report))) {
    throw new RemoteAttestationError("BAD_SIGNATURE", "the report's signature does not verify under the leaf certificate");
  }
  const report = parseReport(envelope.report);
  if (report.nonce !== expected.nonce.toLowerCase())
    throw new RemoteAttestationError("WRONG_NONCE", "the report is not for this nonce");
  const age = expected.now.getTime() - Date.parse(report.timestamp);
  if (age > (expected.maxAgeMs ?? DEFAULT_MAX_REPORT_AGE_MS) || age < -MAX_FUTURE_SKEW_MS) {
    throw new RemoteAttestationError("STALE", `the report is ${Math.round(age / 1000)} s old`);
  }
  if (report.model !== expected.model) throw new RemoteAttestationError("WRONG_MODEL", "the endpoint attests another model");
  const mismatch = measurementMismatch(report.measurements, normalise(expected.measurements));
  if (mismatch !== null) throw new RemoteAttestationError("WRONG_MEASUREMENTS", mismatch);
  return report;
}

interface Envelope {
  readonly report: Uint8Array;
  readonly signature: Uint8Array;
  readonly certificates: Uint8Array[];
}

function parseEnvelope(body: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new RemoteAttestationError("MALFORMED", "the attestation is not JSON");
  }
  const record = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (record.format !== REMOTE_ATTESTATION_FORMAT) {
    throw new RemoteAttestationError("MALFORMED", `format must be ${REMOTE_ATTESTATION_FORMAT}`);
  }
  const { report, signature, certificates } = record;
  if (typeof report !== "string" || !isBase64url(report) || typeof signature !== "string" || !isBase64url(signature)) {
    throw new RemoteAttestationError("MALFORMED", "report and signature must be base64url strings");
  }
  if (
    !Array.isArray(certificates) ||
    certificates.length === 0 ||
    certificates.length > MAX_CERTIFICATES ||
    !certificates.every((item) => typeof item === "string" && /^[A-Za-z0-9+/]+={0,2}$/.test(item))
  ) {
    throw new RemoteAttestationError("MALFORMED", `certificates must be 1-${MAX_CERTIFICATES} base64 DER strings, leaf first`);
  }
  return {
    report: fromBase64url(report),
    signature: fromBase64url(signature),
    certificates: (certificates as string[]).map((item) => Uint8Array.from(atob(item), (c) => c.charCodeAt(0))),
  };
}

function parseReport(bytes: Uint8Array): RemoteAttestationReport {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new RemoteAttestationError("MALFORMED", "the signed report is not UTF-8 JSON");
  }
  const record = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const { nonce, timestamp, model, measurements, tlsSpkiSha256 } = record;
  if (typeof nonce !== "string" || !/^[0-9a-f]{16,128}$/.test(nonce))
    throw new RemoteAttestationError("MALFORMED", "report nonce must be hex");
  if (typeof timestamp !== "string" || Number.isNaN(Date.parse(timestamp))) {
    throw new RemoteAttestationError("MALFORMED", "report timestamp must be an ISO 8601 instant");
  }
  if (typeof model !== "string" || model === "") throw new RemoteAttestationError("MALFORMED", "report model must be a string");
  const problem = measurementsProblem(measurements);
  if (problem !== null) throw new RemoteAttestationError("MALFORMED", `report measurements: ${problem}`);
  if (typeof tlsSpkiSha256 !== "string" || !/^[0-9a-f]{64}$/.test(tlsSpkiSha256)) {
    throw new RemoteAttestationError("MALFORMED", "report tlsSpkiSha256 must be 64 lower-case hex digits");
  }
  return { nonce, timestamp, model, measurements: normalise(measurements as Record<string, string>), tlsSpkiSha256 };
}

/** Checks leaf → … → pinned root at `now` (RFC 5280 §6.1, reduced to what an attestation chain needs); returns the leaf. */
async function verifyCertificates(ders: Uint8Array[], root: PinnedModelRoot, now: Date): Promise<X509Certificate> {
  const chain = [...ders];
  const last = chain.at(-1);
  // A service may include the root itself; only a byte-identical copy of the pinned one is accepted.
  if (last !== undefined && chain.length > 1 && (await sha256Hex(last)) === root.sha256) chain.pop();
  let certificates: X509Certificate[];
  try {
    certificates = chain.map((der) => new X509Certificate(der.slice()));
  } catch {
    throw new RemoteAttestationError("BAD_CHAIN", "a certificate does not parse");
  }
  const top = certificates.at(-1);
  if (top === undefined || top.issuer !== root.certificate.subject) {
    throw new RemoteAttestationError("UNTRUSTED_ROOT", "the chain does not end at the pinned root");
  }
  let issuer = root.certificate;
  for (let index = certificates.length - 1; index >= 0; index -= 1) {
    const subject = certificates[index] as X509Certificate;
    const failure = await linkProblem(issuer, subject, now, index);
    if (failure !== null) {
      // A chain whose top is not signed by the root is an untrusted root, not a broken link.
      const reason = issuer === root.certificate && failure === "signature does not verify" ? "UNTRUSTED_ROOT" : "BAD_CHAIN";
      throw new RemoteAttestationError(reason, `${index === 0 ? "leaf" : `certificate ${index}`}: ${failure}`);
    }
    issuer = subject;
  }
  const usages = issuer.getExtension(KeyUsagesExtension);
  if (usages !== null && (usages.usages & KeyUsageFlags.digitalSignature) === 0) {
    throw new RemoteAttestationError("BAD_CHAIN", "leaf: key is not for digital signatures");
  }
  return issuer;
}

async function linkProblem(
  issuer: X509Certificate,
  subject: X509Certificate,
  now: Date,
  belowSubject: number,
): Promise<string | null> {
  const constraints = issuer.getExtension(BasicConstraintsExtension);
  if (constraints === null || !constraints.ca) return "issuer is not a CA";
  if (constraints.pathLength !== undefined && belowSubject > constraints.pathLength) return "issuer path length exceeded";
  if (subject.issuer !== issuer.subject) return "issuer name mismatch";
  if (now < issuer.notBefore || now > issuer.notAfter) return "issuer not valid now";
  if (now < subject.notBefore || now > subject.notAfter) return "not valid now";
  const signed = await subject.verify({ publicKey: issuer.publicKey, signatureOnly: true }).catch(() => false);
  return signed ? null : "signature does not verify";
}

async function signatureVerifies(leaf: X509Certificate, signature: Uint8Array, report: Uint8Array): Promise<boolean> {
  const algorithm = leaf.publicKey.algorithm as { name?: string; namedCurve?: string };
  const hash = algorithm.namedCurve === "P-256" ? "SHA-256" : algorithm.namedCurve === "P-384" ? "SHA-384" : null;
  if (algorithm.name !== "ECDSA" || hash === null) {
    throw new RemoteAttestationError("BAD_CHAIN", "leaf: key must be ECDSA P-256 or P-384");
  }
  try {
    const key = await leaf.publicKey.export({ name: "ECDSA", namedCurve: algorithm.namedCurve }, ["verify"], crypto);
    return await crypto.subtle.verify({ name: "ECDSA", hash }, key, signature.slice(), report.slice());
  } catch {
    return false;
  }
}

function measurementsProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "must be an object of names to hex digests";
  const entries = Object.entries(value);
  if (entries.length === 0 || entries.length > MAX_MEASUREMENTS) return `must name 1-${MAX_MEASUREMENTS} measurements`;
  for (const [name, digest] of entries) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) return `measurement name ${JSON.stringify(name.slice(0, 64))} is not a plain name`;
    if (typeof digest !== "string" || !/^(?:[0-9a-fA-F]{2}){16,64}$/.test(digest)) {
      return `measurement ${name} must be 16-64 bytes of hex`;
    }
  }
  return null;
}

function normalise(measurements: Readonly<Record<string, string>>): Measurements {
  return Object.fromEntries(Object.entries(measurements).map(([name, digest]) => [name, digest.toLowerCase()]));
}

/** Every pinned measurement present and equal, and none unpinned: a measurement nobody pinned is one nobody checked. */
function measurementMismatch(reported: Measurements, pinned: Measurements): string | null {
  // Own properties only: `in` or a plain lookup would find "constructor" or "toString" on every object.
  for (const [name, digest] of Object.entries(pinned)) {
    if (!Object.hasOwn(reported, name)) return `measurement ${name} is missing`;
    if (reported[name] !== digest) return `measurement ${name} differs from the pinned value`;
  }
  const extra = Object.keys(reported).find((name) => !Object.hasOwn(pinned, name));
  return extra === undefined ? null : `measurement ${extra} is not pinned`;
}

function isBase64url(text: string): boolean {
  return text.length > 0 && text.length <= MAX_ATTESTATION_BYTES && /^[A-Za-z0-9_-]+$/.test(text);
}
