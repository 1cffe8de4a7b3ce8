import type { passkeys } from "../../db/schema";

export type PasskeyRow = typeof passkeys.$inferSelect;

/** A passkey as its owner sees it: never the public key or the counter. */
export interface PasskeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** WebAuthn's credential device type: a backup-eligible credential can be synced to other devices. */
  deviceType: "singleDevice" | "multiDevice";
  backupEligible: boolean;
  backedUp: boolean;
  transports: string[];
  aaguid: string;
}

export function passkeyView(row: PasskeyRow): PasskeyView {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    deviceType: row.backupEligible ? "multiDevice" : "singleDevice",
    backupEligible: row.backupEligible,
    backedUp: row.backedUp,
    transports: row.transports,
    aaguid: row.aaguid,
  };
}

/** A name for a passkey its owner did not name: the date it was added, to tell several apart. */
export function defaultPasskeyName(now: Date): string {
  return `Passkey added ${now.toISOString().slice(0, 10)}`;
}
