// Verification is the expensive part of a query (a chain of certificates, a P-384 signature and a
// round trip to the enclave), and an enclave keeps its HPKE key for its lifetime. So a verified
// attestation is reused per enclave endpoint until the earlier of its leaf certificate's expiry and
// the configured TTL; the endpoint's key names the bridge and everything pinned for it.
import type { EnclaveIdentity } from "../../../enclave-bridge/src/identity.ts";
import type { VerifiedAttestation } from "./verify";

const DEFAULT_MAX_ENTRIES = 64;

export interface CachedAttestation {
  readonly attestation: VerifiedAttestation;
  /** The attestation document's bytes, as verified: receipts name its SHA-256. */
  readonly document: Uint8Array;
  /** What the document's user_data says: the receipt key and the model. */
  readonly identity: EnclaveIdentity;
  /** When it was verified: `set`'s `now`. */
  readonly verifiedAt: Date;
}

interface Entry extends CachedAttestation {
  readonly expiresAt: number;
}

export class AttestationCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
  ) {}

  /** The cached verification under this key, if still within its lifetime at `now`. */
  get(key: string, now: Date): CachedAttestation | null {
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    if (now.getTime() >= entry.expiresAt) {
      this.entries.delete(key);
      return null;
    }
    const { attestation, document, identity, verifiedAt } = entry;
    return { attestation, document, identity, verifiedAt };
  }

  set(key: string, verified: Omit<CachedAttestation, "verifiedAt">, now: Date): void {
    const expiresAt = Math.min(verified.attestation.validUntil.getTime(), now.getTime() + this.ttlMs);
    if (expiresAt <= now.getTime()) return;
    this.entries.delete(key);
    this.entries.set(key, { ...verified, verifiedAt: now, expiresAt });
    // Map iteration follows insertion order, so the first key is the oldest entry.
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }

  /** Forgets a verification, e.g. when the enclave no longer knows the key it carried. */
  delete(key: string): void {
    this.entries.delete(key);
  }
}
