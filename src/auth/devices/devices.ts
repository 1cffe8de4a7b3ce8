/**
 * Device credentials for background uploaders (DESIGN §4). A signed-in user creates one for a
 * phone that uploads exports unattended: it carries only the `uploads:write` scope, it is bound to
 * a key pair the device holds (the RFC 7638 thumbprint of its public key, checked on every DPoP
 * proof, RFC 9449), and it stops working after 90 days without use or when the user revokes it.
 * The credential `dev_….secret` is shown once; only a SHA-256 of its secret is stored.
 */
import { and, count, eq, isNull } from "drizzle-orm";
import { calculateJwkThumbprint, importJWK } from "jose";
import type { AuditContext } from "../../audit/event";
import type { SecurityWrite } from "../../audit/security-events";
import { appendSecurityEvent } from "../../audit/security-events";
import type { Db } from "../../db/client";
import { newId } from "../../db/ids";
import { devices } from "../../db/schema";
import { DomainError } from "../../errors/domain-error";
import { afterCursor, decodeKeyset, newestFirst, pageOf } from "../../pagination/keyset";
import { recordedDeviceUses } from "../activity";
import { formatOpaqueToken, randomSecret, sha256Hex } from "../secrets";
import type { DevicePublicJwk } from "./schema";

export const DEVICE_SCOPES = ["uploads:write"] as const;
export const DEVICE_UNUSED_TTL_MS = 90 * 24 * 60 * 60 * 1000;
/** Live (unrevoked) credentials per user: far more than anyone's phones, few enough to bound the table. */
export const MAX_DEVICES_PER_USER = 20;

export type DeviceRow = typeof devices.$inferSelect;

export interface DeviceView {
  id: string;
  name: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string;
}

/** When an unused credential stops working: 90 days after its last use (or its creation). */
export function deviceExpiresAt(device: Pick<DeviceRow, "createdAt" | "lastUsedAt">): Date {
  return new Date((device.lastUsedAt ?? device.createdAt).getTime() + DEVICE_UNUSED_TTL_MS);
}

export function deviceView(device: DeviceRow): DeviceView {
  return {
    id: device.id,
    name: device.name,
    scopes: device.scopes,
    createdAt: device.createdAt.toISOString(),
    lastUsedAt: device.lastUsedAt?.toISOString() ?? null,
    expiresAt: deviceExpiresAt(device).toISOString(),
  };
}

/** The DPoP key thumbprint (`jkt`, RFC 9449 §6.1) of a public JWK that WebCrypto accepts as a P-256 point. */
export async function deviceKeyThumbprint(jwk: DevicePublicJwk): Promise<string> {
  try {
    await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, "ES256");
  } catch (error) {
    throw new DomainError("VALIDATION_FAILED", "The public key is not a valid P-256 key.", {
      errors: [{ path: "publicJwk", message: "not a point on the P-256 curve" }],
      cause: error,
    });
  }
  return calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, "sha256");
}

export async function createDevice(
  ctx: { db: Db },
  userId: string,
  input: { name: string; publicJwk: DevicePublicJwk },
  audit: AuditContext,
  now = new Date(),
): Promise<{ device: DeviceView; credential: string }> {
  const jkt = await deviceKeyThumbprint(input.publicJwk);
  const [live] = await ctx.db
    .select({ n: count() })
    .from(devices)
    .where(and(eq(devices.userId, userId), isNull(devices.revokedAt)));
  if ((live?.n ?? 0) >= MAX_DEVICES_PER_USER) {
    throw new DomainError("CONFLICT", `At most ${MAX_DEVICES_PER_USER} device credentials; revoke one you no longer use.`);
  }
  const id = newId("dev");
  const secret = randomSecret();
  const row: DeviceRow = {
    id,
    userId,
    name: input.name,
    secretHash: await sha256Hex(secret),
    jkt,
    scopes: [...DEVICE_SCOPES],
    createdAt: now,
    lastUsedAt: null,
    revokedAt: null,
  };
  await appendSecurityEvent(
    ctx.db,
    { ...audit, action: "device.create", resource: `device:${id}`, subject: userId, result: "success" },
    [ctx.db.insert(devices).values(row)],
  );
  return { device: deviceView(row), credential: formatOpaqueToken({ id, secret }) };
}

/**
 * The user's unrevoked credentials, newest first (unused ones too, with their past `expiresAt`),
 * each with its precise last use: D1 keeps it to the day, the user's AuthActivity to the request.
 */
export async function listDevices(
  ctx: { db: Db; env: Pick<Env, "AUTH_ACTIVITY"> },
  userId: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<{ items: DeviceView[]; nextCursor: string | null }> {
  const binding = { list: "devices" };
  const after = decodeKeyset(page.cursor, binding);
  const rows = await ctx.db
    .select()
    .from(devices)
    .where(and(eq(devices.userId, userId), isNull(devices.revokedAt), afterCursor(devices, after)))
    .orderBy(...newestFirst(devices))
    .limit(page.limit + 1);
  const { rows: items, nextCursor } = pageOf(rows, page.limit, binding);
  const recorded = await recordedDeviceUses(
    ctx.env,
    userId,
    items.map((row) => row.id),
  );
  const withUse = items.map((row) => {
    const used = recorded[row.id];
    return used !== undefined && used > (row.lastUsedAt?.getTime() ?? 0) ? { ...row, lastUsedAt: new Date(used) } : row;
  });
  return { items: withUse.map(deviceView), nextCursor };
}

/** Revokes one of the user's credentials at once; another user's (or an already revoked) id is 404. */
export async function revokeDevice(ctx: { db: Db }, userId: string, deviceId: string, audit: AuditContext): Promise<void> {
  const mine = and(eq(devices.id, deviceId), eq(devices.userId, userId), isNull(devices.revokedAt));
  const [found] = await ctx.db.select({ id: devices.id }).from(devices).where(mine).limit(1);
  if (!found) throw new DomainError("NOT_FOUND", "No such device.");
  await appendSecurityEvent(
    ctx.db,
    { ...audit, action: "device.revoke", resource: `device:${deviceId}`, subject: userId, result: "success" },
    [ctx.db.update(devices).set({ revokedAt: new Date() }).where(mine)],
  );
}

/**
 * The write that revokes every live credential of the user, for a caller that batches it with
 * other writes and their audit event (sign out everywhere: src/auth/session-management.ts). Its
 * batch result lists the revoked ids.
 */
export function revokeAllDevicesWrite(db: Db, userId: string, now = new Date()): SecurityWrite {
  return db
    .update(devices)
    .set({ revokedAt: now })
    .where(and(eq(devices.userId, userId), isNull(devices.revokedAt)))
    .returning({ id: devices.id });
}
