// Certificate path validation for the document's cabundle + leaf (RFC 5280 §6.1, reduced to what a
// Nitro chain needs): the path must start at the pinned root, every certificate must be signed by
// the one before it, be valid at the document's timestamp, and every issuer must be a CA.
// tsyringe, which @peculiar/x509 uses internally, needs the Reflect metadata polyfill first.
import "reflect-metadata";
import { BasicConstraintsExtension, X509Certificate } from "@peculiar/x509";

export interface PinnedRoot {
  readonly certificate: X509Certificate;
  /** Lower-case hex SHA-256 of the root's DER encoding. */
  readonly sha256: string;
}

export type ChainFailure = { readonly reason: "UNTRUSTED_ROOT" | "BAD_CHAIN"; readonly detail: string };

/**
 * Loads the trust anchor once per isolate. A root whose fingerprint differs from the pinned one is a
 * configuration error, so it throws rather than producing a verification result.
 */
export async function loadPinnedRoot(certificate: string | Uint8Array, sha256: string): Promise<PinnedRoot> {
  const root = new X509Certificate(typeof certificate === "string" ? certificate : certificate.slice());
  const fingerprint = await fingerprintOf(root.rawData);
  if (fingerprint !== sha256.toLowerCase()) throw new Error("pinned root certificate does not match its fingerprint");
  return { certificate: root, sha256: fingerprint };
}

/** Returns the validated leaf, or why the chain is refused. */
export async function verifyChain(
  root: PinnedRoot,
  cabundle: readonly Uint8Array[],
  leafDer: Uint8Array,
  at: Date,
): Promise<{ leaf: X509Certificate; path: readonly X509Certificate[] } | ChainFailure> {
  const [anchor, ...rest] = cabundle;
  // The spec puts the root first in cabundle; only a byte-identical copy of the pinned root is accepted.
  if (anchor === undefined || (await fingerprintOf(anchor)) !== root.sha256) {
    return { reason: "UNTRUSTED_ROOT", detail: "chain does not start at the pinned root" };
  }
  let path: X509Certificate[];
  try {
    path = [...rest, leafDer].map((der) => new X509Certificate(der.slice()));
  } catch {
    return { reason: "BAD_CHAIN", detail: "certificate does not parse" };
  }
  let issuer = root.certificate;
  for (const [index, certificate] of path.entries()) {
    const isLeaf = index === path.length - 1;
    const failure = await checkLink(issuer, certificate, at, path.length - 1 - index);
    if (failure !== null) return { reason: "BAD_CHAIN", detail: `${isLeaf ? "leaf" : `intermediate ${index}`}: ${failure}` };
    issuer = certificate;
  }
  return { leaf: issuer, path };
}

async function checkLink(
  issuer: X509Certificate,
  subject: X509Certificate,
  at: Date,
  certificatesBelowSubject: number,
): Promise<string | null> {
  const constraints = issuer.getExtension(BasicConstraintsExtension);
  if (constraints === null || !constraints.ca) return "issuer is not a CA";
  // pathLength counts the non-leaf certificates that may follow the issuer.
  if (constraints.pathLength !== undefined && certificatesBelowSubject > constraints.pathLength) {
    return "issuer path length exceeded";
  }
  if (subject.issuer !== issuer.subject) return "issuer name mismatch";
  if (at < issuer.notBefore || at > issuer.notAfter) return "issuer not valid at document time";
  if (at < subject.notBefore || at > subject.notAfter) return "not valid at document time";
  const signed = await subject.verify({ publicKey: issuer.publicKey, signatureOnly: true }).catch(() => false);
  return signed ? null : "signature does not verify";
}

async function fingerprintOf(der: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der instanceof Uint8Array ? der.slice() : der));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
