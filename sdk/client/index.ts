/**
 * A typed client for the Pulse API: openapi-fetch over the types openapi-typescript generates from
 * the committed OpenAPI document (./openapi.json, the document /openapi.json serves). Regenerate
 * both with `npm run sdk:generate`; `npm test` fails while they are out of date.
 *
 *   const pulse = createPulseClient({ baseUrl: "http://127.0.0.1:8787", token });
 *   const { data, error } = await pulse.GET("/v1/uploads/{id}", { params: { path: { id } } });
 *
 * Every call resolves with `{ data }` on success or `{ error }` (the problem document) otherwise;
 * `response` is always there for status and headers.
 *
 * Answers of `POST /v1/ai/query` are checked offline with `verifyAnswerReceipt` from
 * `@pulse/client/receipt` (./receipt.ts), kept apart because it brings the attestation verifier along.
 */
import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./schema";

export type { components, operations, paths } from "./schema";

export type PulseClient = Client<paths>;

export interface PulseClientOptions {
  /** Where Pulse is served, e.g. `http://127.0.0.1:8787` for `npm run dev`. */
  baseUrl: string;
  /** A session's access token, sent as `Authorization: Bearer …`. */
  token?: string;
  /** A fetch implementation (a test's, or one that adds a DPoP proof per request). */
  fetch?: (request: Request) => Promise<Response>;
}

export function createPulseClient(options: PulseClientOptions): PulseClient {
  return createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.token === undefined ? {} : { headers: { Authorization: `Bearer ${options.token}` } }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
}

/**
 * The request options that send `file` as the raw body of `POST /v1/uploads` (DESIGN §6): the bytes
 * as they are, not JSON, with the file name in `Content-Disposition`.
 */
export function uploadBody(file: Blob, fileName: string) {
  return {
    body: file,
    // openapi-fetch serializes bodies as JSON by default; this body is sent as the bytes it is.
    bodySerializer: () => file,
    headers: {
      "Content-Type": "application/avro",
      "Content-Disposition": `attachment; filename="${fileName.replaceAll('"', "")}"`,
    },
  };
}
