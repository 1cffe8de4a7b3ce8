import type { StoreMigration } from "./migrations";

/**
 * Version 3: the client-side vault (DESIGN §9). Blobs are opaque to the server: it keeps the
 * envelope's `version` and byte size for listings and the JSON text as sent, nothing it could
 * decrypt. Ids are chosen by the client and unique within this user's store. Frozen like every
 * shipped migration (see migrations.ts).
 */
export const STORE_MIGRATION_V3: StoreMigration = {
  version: 3,
  name: "vault-blobs",
  statements: [
    `CREATE TABLE vault_blobs (
      id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
      version INTEGER NOT NULL,
      body TEXT NOT NULL,
      size INTEGER NOT NULL CHECK (size >= 0),
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT`,
  ],
};
