/**
 * `account.json` of the archive: what Pulse keeps about a person in D1 besides their health data.
 * Credentials stay out (passkey public keys, token hashes, provider tokens): the archive is for
 * the person to read and keep, and none of that would be of use outside Pulse.
 */
import { eq, inArray, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { connections, consents, devices, grantInvitations, grants, passkeys, sessions, type UserRow, users } from "../db/schema";
import { summarizeConnection } from "../providers/connections";
import { granteeGrantView, patientGrantView } from "../sharing/grant-lists";
import { invitationView } from "../sharing/invitations";

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

export async function accountSnapshot(db: Db, user: UserRow): Promise<Record<string, unknown>> {
  const userId = user.id;
  const [keys, sessionRows, deviceRows, connectionRows, invitationRows, grantRows, consentRows] = await db.batch([
    db.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(passkeys.createdAt),
    db.select().from(sessions).where(eq(sessions.userId, userId)).orderBy(sessions.createdAt),
    db.select().from(devices).where(eq(devices.userId, userId)).orderBy(devices.createdAt),
    db.select().from(connections).where(eq(connections.userId, userId)).orderBy(connections.createdAt),
    db.select().from(grantInvitations).where(eq(grantInvitations.patientId, userId)).orderBy(grantInvitations.createdAt),
    db
      .select()
      .from(grants)
      .where(or(eq(grants.patientId, userId), eq(grants.granteeId, userId)))
      .orderBy(grants.createdAt),
    db.select().from(consents).where(eq(consents.userId, userId)).orderBy(consents.acceptedAt, consents.document),
  ]);
  const others = [...new Set(grantRows.map((grant) => (grant.patientId === userId ? grant.granteeId : grant.patientId)))];
  const names = new Map(
    others.length === 0
      ? []
      : (await db.select({ id: users.id, displayName: users.displayName }).from(users).where(inArray(users.id, others))).map(
          (row) => [row.id, row.displayName],
        ),
  );
  // The views the sharing routes answer with, so the archive says what the API says.
  const now = Date.now();
  const nameOf = (id: string) => ({ displayName: names.get(id) ?? "" });
  return {
    profile: {
      id: user.id,
      username: user.username,
      displayName: user.displayName,
      role: user.role,
      createdAt: iso(user.createdAt),
      updatedAt: iso(user.updatedAt),
    },
    passkeys: keys.map((key) => ({
      name: key.name,
      createdAt: iso(key.createdAt),
      lastUsedAt: iso(key.lastUsedAt),
      backedUp: key.backedUp,
    })),
    sessions: sessionRows.map((session) => ({
      kind: session.kind,
      userAgent: session.userAgent,
      createdAt: iso(session.createdAt),
      lastSeenAt: iso(session.lastSeenAt),
      expiresAt: iso(session.expiresAt),
      revokedAt: iso(session.revokedAt),
    })),
    devices: deviceRows.map((device) => ({
      id: device.id,
      name: device.name,
      scopes: device.scopes,
      createdAt: iso(device.createdAt),
      lastUsedAt: iso(device.lastUsedAt),
      revokedAt: iso(device.revokedAt),
    })),
    // Never the tokens: the same summary GET /v1/connections gives.
    connections: connectionRows.map(summarizeConnection),
    invitations: invitationRows.map((invitation) => invitationView(invitation, now)),
    grantsGiven: grantRows
      .filter((grant) => grant.patientId === userId)
      .map((grant) => patientGrantView(grant, nameOf(grant.granteeId), now)),
    grantsReceived: grantRows
      .filter((grant) => grant.granteeId === userId)
      .map((grant) => granteeGrantView(grant, nameOf(grant.patientId), now)),
    consents: consentRows.map((consent) => ({
      document: consent.document,
      version: consent.version,
      acceptedAt: iso(consent.acceptedAt),
      withdrawnAt: iso(consent.withdrawnAt),
    })),
  };
}
