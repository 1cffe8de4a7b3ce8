/**
 * `account.json` of the archive: what Pulse keeps about a person in D1 besides their health data.
 * Credentials stay out (passkey public keys, token hashes, provider tokens): the archive is for
 * the person to read and keep, and none of that would be of use outside Pulse.
 */
import { eq, inArray, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { connections, consents, devices, grantInvitations, grants, passkeys, sessions, type UserRow, users } from "../db/schema";

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
  const grantView = (grant: (typeof grantRows)[number], other: string) => ({
    id: grant.id,
    [grant.patientId === userId ? "grantee" : "patient"]: { id: other, displayName: names.get(other) ?? null },
    role: grant.role,
    categories: grant.categories,
    dataSince: iso(grant.dataSince),
    dataUntil: iso(grant.dataUntil),
    note: grant.note,
    createdAt: iso(grant.createdAt),
    expiresAt: iso(grant.expiresAt),
    revokedAt: iso(grant.revokedAt),
    lastAccessedAt: iso(grant.lastAccessedAt),
  });

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
    connections: connectionRows.map((connection) => ({
      provider: connection.provider,
      status: connection.status,
      scopes: connection.scopes,
      timeZone: connection.timeZone,
      createdAt: iso(connection.createdAt),
      lastSyncAt: iso(connection.lastSyncAt),
    })),
    invitations: invitationRows.map((invitation) => ({
      id: invitation.id,
      role: invitation.role,
      categories: invitation.categories,
      note: invitation.note,
      createdAt: iso(invitation.createdAt),
      codeExpiresAt: iso(invitation.codeExpiresAt),
      grantExpiresAt: iso(invitation.grantExpiresAt),
      redeemedAt: iso(invitation.redeemedAt),
      revokedAt: iso(invitation.revokedAt),
    })),
    grantsGiven: grantRows.filter((grant) => grant.patientId === userId).map((grant) => grantView(grant, grant.granteeId)),
    grantsReceived: grantRows.filter((grant) => grant.granteeId === userId).map((grant) => grantView(grant, grant.patientId)),
    consents: consentRows.map((consent) => ({
      document: consent.document,
      version: consent.version,
      acceptedAt: iso(consent.acceptedAt),
      withdrawnAt: iso(consent.withdrawnAt),
    })),
  };
}
