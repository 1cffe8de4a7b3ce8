import { DurableObject } from "cloudflare:workers";

/** Single-use PKCE state (DESIGN §7). */
export class OAuthState extends DurableObject<Env> {}
