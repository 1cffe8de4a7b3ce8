// Types for scripts/dev-passkey.mjs, imported by test/node/dev-passkey.test.ts.
import { SoftwareAuthenticator } from "../test/worker/helpers/authenticator.ts";

export { SoftwareAuthenticator };
export declare function post(url: string, path: string, body?: unknown, token?: string): Promise<unknown>;
export declare function saveCredential(file: string, authenticator: SoftwareAuthenticator): Promise<void>;
export declare function loadCredential(file: string): Promise<SoftwareAuthenticator>;
export declare function signIn(
  url: string,
  authenticator: SoftwareAuthenticator,
  file: string,
): Promise<{ accessToken: string; refreshToken: string; user: { id: string; username: string } }>;
export declare function parseOptions(argv: string[], names: string[], usage: string): Record<string, string>;
