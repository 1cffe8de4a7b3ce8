/**
 * Credential activity of one user, kept off D1's single writer (docs/scale.md): one object per user,
 * addressed as `AUTH_ACTIVITY.getByName(userId)`. It holds only short-lived, high-churn facts about
 * the user's credentials — when each session last made a request, when each device last did, and
 * the DPoP `jti`s seen within their acceptance window — never health data.
 *
 * The contract (filled in by the methods below):
 *  - `touchSession(sessionId, atMs)`: records use of a session (throttled by the caller);
 *  - `sessionLastSeen(sessionId)`: the latest recorded use, or null;
 *  - `useDpopProof(deviceId, jtiHash, expiresAtMs, nowMs)`: true when the key is new (recorded),
 *    false for a replay; also records the device's use;
 *  - `deviceLastUsed(deviceId)`: the latest recorded use of a device, or null;
 *  - everything it holds expires by itself (alarm), and `forget()` deletes it all (account deletion).
 */
import { DurableObject } from "cloudflare:workers";

export class AuthActivity extends DurableObject<Env> {}
