// The certificate chain behind simulated attestation documents, shaped like the Nitro one: a P-384
// self-signed root (the trust anchor the Worker pins in local mode) → an intermediate CA → a
// short-lived leaf whose key signs documents. All ECDSA with SHA-384, as in AWS's chain.
// tsyringe, which @peculiar/x509 uses internally, needs the Reflect metadata polyfill first.
import "reflect-metadata";
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  X509Certificate,
  X509CertificateGenerator,
} from "@peculiar/x509";

const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-384" } as const;
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-384" } as const;
const CA_USAGES = KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign;
/** Backdating absorbs the one-second resolution of certificate times and small clock differences. */
const BACKDATE_MS = 60_000;
const ROOT_LIFETIME_MS = 365 * 24 * 3_600_000;
const INTERMEDIATE_LIFETIME_MS = 7 * 24 * 3_600_000;
/** Nitro leaf certificates live for about three hours. */
export const LEAF_LIFETIME_MS = 3 * 3_600_000;

// Inferred from the global WebCrypto so the types match whichever lib (DOM or Node) the consumer uses.
type KeyPair = Awaited<ReturnType<typeof generateKeys>>;

export interface CertifiedKey {
  readonly certificate: X509Certificate;
  readonly keys: KeyPair;
}

export interface DevelopmentChain {
  readonly root: CertifiedKey;
  readonly intermediate: CertifiedKey;
  readonly leaf: CertifiedKey;
}

export async function createDevelopmentRoot(now: Date): Promise<CertifiedKey> {
  const keys = await generateKeys();
  const certificate = await X509CertificateGenerator.createSelfSigned(
    {
      name: "CN=Pulse development Nitro root, O=Pulse (local development only)",
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      ...validity(now, ROOT_LIFETIME_MS),
      // pathLength 1: one intermediate, then the leaf.
      extensions: [new BasicConstraintsExtension(true, 1, true), new KeyUsagesExtension(CA_USAGES, true)],
    },
    crypto,
  );
  return { certificate, keys };
}

/** A development root as two PEM strings, so `npm run dev` can keep one root (and one pinned fingerprint) across restarts. */
export interface StoredDevelopmentRoot {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export async function exportDevelopmentRoot(root: CertifiedKey): Promise<StoredDevelopmentRoot> {
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", root.keys.privateKey));
  const body = Buffer.from(pkcs8).toString("base64").replace(/.{64}/g, "$&\n");
  pkcs8.fill(0);
  return {
    certificatePem: root.certificate.toString("pem"),
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${body.trimEnd()}\n-----END PRIVATE KEY-----\n`,
  };
}

export async function importDevelopmentRoot(stored: StoredDevelopmentRoot): Promise<CertifiedKey> {
  const certificate = new X509Certificate(stored.certificatePem);
  const pkcs8 = Buffer.from(stored.privateKeyPem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, KEY_ALGORITHM, true, ["sign"]);
  pkcs8.fill(0);
  const publicKey = await certificate.publicKey.export(KEY_ALGORITHM, ["verify"], crypto);
  return { certificate, keys: { privateKey, publicKey } };
}

export async function createIntermediate(root: CertifiedKey, now: Date): Promise<CertifiedKey> {
  return issue(root, "CN=Pulse development Nitro intermediate, O=Pulse (local development only)", now, INTERMEDIATE_LIFETIME_MS, [
    new BasicConstraintsExtension(true, 0, true),
    new KeyUsagesExtension(CA_USAGES, true),
  ]);
}

export async function createLeaf(intermediate: CertifiedKey, moduleId: string, now: Date): Promise<CertifiedKey> {
  return issue(intermediate, `CN=${moduleId}, O=Pulse (local development only)`, now, LEAF_LIFETIME_MS, [
    new BasicConstraintsExtension(false, undefined, true),
    new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
  ]);
}

async function issue(
  issuer: CertifiedKey,
  subject: string,
  now: Date,
  lifetimeMs: number,
  extensions: (BasicConstraintsExtension | KeyUsagesExtension)[],
): Promise<CertifiedKey> {
  const keys = await generateKeys();
  const certificate = await X509CertificateGenerator.create(
    {
      subject,
      issuer: issuer.certificate.subject,
      publicKey: keys.publicKey,
      signingKey: issuer.keys.privateKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      ...validity(now, lifetimeMs),
      extensions,
    },
    crypto,
  );
  return { certificate, keys };
}

function validity(now: Date, lifetimeMs: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + lifetimeMs) };
}

function generateKeys() {
  // Extractable so a development root can be saved and reused across restarts (exportDevelopmentRoot).
  return crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
}
