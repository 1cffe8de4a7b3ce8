/**
 * `Authorization: DPoP <device credential>` plus a `DPoP` proof header (RFC 9449 §7.1), called by
 * requireAuth() (src/auth/middleware.ts). The credential must be live (not revoked, its user not
 * deleted, used within 90 days) and its secret must match; the proof must pass RFC 9449 §4.3
 * (./dpop.ts) for this very request and carry a `jti` this device has not used before.
 *
 * Replay detection stores SHA-256(deviceId:jti) with the instant the proof's `iat` leaves the
 * acceptance window; a second insert of the same key is a replay. The insert and the throttled
 * `last_used_at` update share one batch, so a replayed proof never counts as use. Expired rows
 * are purged daily (./purge-dpop-proofs.ts).
 */
import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { Context } from "hono";
import { getDb } from "../../db/client";
import { isConstraintViolation } from "../../db/errors";
import { devices, dpopProofs, users } from "../../db/schema";
import type { DomainError } from "../../errors/domain-error";
import { HttpError } from "../../http/errors";
import type { AppEnv, AuthContext } from "../../http/types";
import { log } from "../../observability/log";
import { parseOpaqueToken, secretMatches, sha256Hex } from "../secrets";
import { deviceExpiresAt } from "./devices";
import { DPOP_ALGORITHM, DPOP_IAT_WINDOW_SECONDS, type DpopFailure, verifyDpopProof } from "./dpop";

/** `last_used_at` is written at most this often; the 90-day expiry needs nothing finer. */
const LAST_USED_INTERVAL_MS = 15 * 60 * 1000;

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
  if (device.revokedAt || row.deletedAt || deviceExpiresAt(device).getTime() <= now) throw invalidCredential;

  const proof = await verifyDpopProof(c.req.header("DPoP"), {
    method: c.req.method,
    url: c.req.url,
    accessToken: credential,
    jkt: device.jkt,
    now,
  });
  if (!proof.ok) throw refusedProof(c, device.id, proof.failure);

  try {
    await db.batch([
      db.insert(dpopProofs).values({
        key: await sha256Hex(`${device.id}:${proof.jti}`),
        expiresAt: new Date((proof.iat + DPOP_IAT_WINDOW_SECONDS + 1) * 1000),
      }),
      db
        .update(devices)
        .set({ lastUsedAt: new Date(now) })
        .where(
          and(
            eq(devices.id, device.id),
            or(isNull(devices.lastUsedAt), lt(devices.lastUsedAt, new Date(now - LAST_USED_INTERVAL_MS))),
          ),
        ),
    ]);
  } catch (error) {
    if (isConstraintViolation(error, /dpop_proofs\.key/)) throw refusedProof(c, device.id, "replay");
    throw error;
  }
  return { userId: device.userId, role: row.role, kind: "device", deviceId: device.id, scopes: device.scopes };
}

function refusedProof(c: Context<AppEnv>, deviceId: string, failure: DpopFailure | "replay"): DomainError {
  log("warn", "dpop proof refused", { requestId: c.get("requestId"), deviceId, failure });
  return refused("invalid_dpop_proof", PROOF_DETAIL[failure]);
}
