// Verification is the expensive part of a query (a five-certificate chain and a P-384 signature),
// and an enclave keeps its HPKE key for its lifetime. So a verified attestation is reused per
// enclave public key until the earlier of its leaf certificate's expiry and the caller's TTL.
import type { VerifiedAttestation } from "./verify";

const DEFAULT_MAX_ENTRIES = 64;

interface Entry {
  readonly attestation: VerifiedAttestation;
  readonly expiresAt: number;
}

export class AttestationCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
  ) {}

  /** The cached verification for this enclave key, if still within its lifetime at `now`. */
  async get(publicKey: Uint8Array, now: Date): Promise<VerifiedAttestation | null> {
    const key = await keyOf(publicKey);
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    if (now.getTime() >= entry.expiresAt) {
      this.entries.delete(key);
      return null;
    }
    return entry.attestation;
  }

  /** Stores a verification; documents without a public key have nothing to cache under. */
  async set(attestation: VerifiedAttestation, now: Date): Promise<void> {
    if (attestation.publicKey === null) return;
    const expiresAt = Math.min(attestation.validUntil.getTime(), now.getTime() + this.ttlMs);
    if (expiresAt <= now.getTime()) return;
    const key = await keyOf(attestation.publicKey);
    this.entries.delete(key);
    this.entries.set(key, { attestation, expiresAt });
    // Map iteration follows insertion order, so the first key is the oldest entry.
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }
}

async function keyOf(publicKey: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", publicKey.slice()));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
