import type { Context } from "hono";
import { AppError } from "../../http/errors";
import type { AppEnv, AuthContext } from "../../http/types";

/** Device credentials with DPoP proofs (RFC 9449). */
export async function authenticateDevice(_c: Context<AppEnv>, _credential: string): Promise<AuthContext> {
  throw new AppError("UNAUTHENTICATED", "Device credentials are not accepted yet.", {
    headers: { "WWW-Authenticate": 'DPoP realm="pulse", error="invalid_token"' },
  });
}
