/**
 * `Authorization: DPoP <device credential>` plus a `DPoP` proof header (RFC 9449 §7.1), called by
 * requireAuth() (src/auth/middleware.ts). The credential must be live (not revoked, its user not
 * deleted, used within 90 days) and its secret must match; the proof must pass RFC 9449 §4.3
 * (./dpop.ts) for this very request and carry a `jti` this device has not used before.
 *
 * Replay detection and the record of use live in the user's AuthActivity Durable Object
 * (../activity.ts), not D1: one key per proof — SHA-256 of the `jti`, kept until the proof's `iat`
 * leaves the acceptance window — inserted atomically, so of two uses of one proof, however
 * concurrent, exactly one passes; a replay records nothing. D1's `devices.last_used_at`, which the
 * 90-day expiry reads, is written at most once a day per device: the expiry needs nothing finer,
 * and a credential that D1 alone would call expired is checked against the precise record first.
 */
import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { Context } from "hono";
import { type Db, getDb } from "../../db/client";
import { devices, users } from "../../db/schema";
import type { DomainError } from "../../errors/domain-error";
import { HttpError } from "../../http/errors";
import type { AppEnv, AuthContext } from "../../http/types";
import { log } from "../../observability/log";
import { recordedDeviceUses, useDpopProof } from "../activity";
import { parseOpaqueToken, secretMatches } from "../secrets";
import { DEVICE_UNUSED_TTL_MS, type DeviceRow, deviceExpiresAt } from "./devices";
import { DPOP_ALGORITHM, DPOP_IAT_WINDOW_SECONDS, type DpopFailure, verifyDpopProof } from "./dpop";

/** D1's `last_used_at` is written at most this often; the 90-day expiry needs nothing finer. */
export const DEVICE_LAST_USED_INTERVAL_MS = 24 * 60 * 60 * 1000;

type DpopError = "invalid_token" | "invalid_dpop_proof";

function refused(error: DpopError, detail: string): DomainError {
  return new HttpError("UNAUTHENTICATED", detail, {
    headers: { "WWW-Authenticate": `DPoP realm="pulse", error="${error}", algs="${DPOP_ALGORITHM}"` },
  });
}

const PROOF_DETAIL: Record<DpopFailure | "replay", string> = {
  missing: "Send a DPoP proof header with the device credential (RFC 9449).",
  malformed: "The DPoP proof is not a single compact JWT.",
  header: `The DPoP proof header must have typ "dpop+jwt", alg "${DPOP_ALGORITHM}" and the device's public jwk.`,
  key_mismatch: "The DPoP proof is not signed with this device's key.",
  signature: "The DPoP proof signature is invalid.",
  claims: "The DPoP proof needs jti, htm, htu, iat and ath claims.",
  method: "The DPoP proof htm does not match the request method.",
  url: "The DPoP proof htu does not match the request URL.",
  iat: `The DPoP proof iat is more than ${DPOP_IAT_WINDOW_SECONDS} s away from the server time.`,
  ath: "The DPoP proof ath does not match the credential.",
  replay: "This DPoP proof was already used; sign a fresh one for every request.",
};

export async function authenticateDevice(c: Context<AppEnv>, credential: string): Promise<AuthContext> {
  const now = Date.now();
  const parsed = parseOpaqueToken(credential, "dev");
  const invalidCredential = refused("invalid_token", "The device credential is invalid, expired or revoked.");
  if (!parsed) throw invalidCredential;

  const db = getDb(c.env.DB);
  const [row] = await db
    .select({ device: devices, role: users.role, deletedAt: users.deletedAt })
    .from(devices)
    .innerJoin(users, eq(users.id, devices.userId))
    .where(eq(devices.id, parsed.id))
    .limit(1);
  if (!row || !(await secretMatches(parsed.secret, row.device.secretHash))) throw invalidCredential;
  const { device } = row;
  if (device.revokedAt || row.deletedAt || !(await isUnexpired(c.env, device, now))) throw invalidCredential;

  const proof = await verifyDpopProof(c.req.header("DPoP"), {
    method: c.req.method,
    url: c.req.url,
    accessToken: credential,
    jkt: device.jkt,
    now,
  });
  if (!proof.ok) throw refusedProof(c, device.id, proof.failure);

  const fresh = await useDpopProof(c.env, {
    userId: device.userId,
    deviceId: device.id,
    jti: proof.jti,
    expiresAt: (proof.iat + DPOP_IAT_WINDOW_SECONDS + 1) * 1000,
    at: now,
    deviceForgetAt: now + DEVICE_UNUSED_TTL_MS,
  });
  if (!fresh) throw refusedProof(c, device.id, "replay");
  if (device.lastUsedAt === null || now - device.lastUsedAt.getTime() >= DEVICE_LAST_USED_INTERVAL_MS) {
    await noteDailyUse(db, device.id, now);
  }
  return { userId: device.userId, role: row.role, kind: "device", deviceId: device.id, scopes: device.scopes };
}

/**
 * Whether the credential is within its 90 days of last use. D1's `last_used_at` may be up to a day
 * behind; only when it alone says expired is the precise record (the AuthActivity) asked, so a
 * credential is never refused early and a live one pays no Durable Object read for this.
 */
async function isUnexpired(env: Env, device: DeviceRow, now: number): Promise<boolean> {
  if (deviceExpiresAt(device).getTime() > now) return true;
  const recorded = (await recordedDeviceUses(env, device.userId, [device.id]))[device.id];
  return recorded !== undefined && recorded + DEVICE_UNUSED_TTL_MS > now;
}

/** The daily write of D1's `last_used_at`; conditional, so concurrent requests write it once. */
async function noteDailyUse(db: Db, deviceId: string, now: number): Promise<void> {
  await db
    .update(devices)
    .set({ lastUsedAt: new Date(now) })
    .where(
      and(
        eq(devices.id, deviceId),
        or(isNull(devices.lastUsedAt), lt(devices.lastUsedAt, new Date(now - DEVICE_LAST_USED_INTERVAL_MS + 1))),
      ),
    );
}

function refusedProof(c: Context<AppEnv>, deviceId: string, failure: DpopFailure | "replay"): DomainError {
  log("warn", "dpop proof refused", { requestId: c.get("requestId"), deviceId, failure });
  return refused("invalid_dpop_proof", PROOF_DETAIL[failure]);
}
