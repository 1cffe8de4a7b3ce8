import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import { DomainError } from "../../errors/domain-error";
import type { AppEnv } from "../types";

export interface BodyRule {
  method: string;
  /** A path prefix such as `/v1/uploads`. */
  path: string;
  maxBytes: number;
  /** Media types accepted on this route instead of JSON; `*` accepts any. */
  contentTypes: string[];
}

export interface BodyLimitOptions {
  defaultMaxBytes: (c: { var: AppEnv["Variables"] }) => number;
  rules?: BodyRule[];
  /**
   * True when the request's route authenticates its caller. Its body checks then wait until the
   * body is first read (after the route's `requireAuth()`), or until `checkBody()` runs: a caller
   * without credentials learns nothing but 401, and costs no reading of what it sent.
   */
  authenticated?: (c: Context<AppEnv>) => boolean;
}

/**
 * Reading the request body failed because the client went away (closed the connection, reset it,
 * stopped mid-upload). Not a server fault: the error handler logs it at info as `client_closed`.
 */
export class ClientClosedError extends Error {
  constructor(cause: unknown) {
    super("The client closed the connection before the request body was complete.", { cause });
    this.name = "ClientClosedError";
  }
}

interface BodyState {
  /** Runs the media-type and declared-size checks once; throws their problem. */
  check: () => void;
  /** Why reading the body failed, kept because Hono's JSON validator replaces it with a generic 400. */
  failure?: unknown;
}

const states = new WeakMap<Context<AppEnv>, BodyState>();

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function mediaType(header: string | undefined): string | undefined {
  return header?.split(";")[0]?.trim().toLowerCase() || undefined;
}

function isJson(type: string): boolean {
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

/**
 * Size and media-type limits for request bodies (DESIGN §3: 413, 415). JSON is the default; routes
 * that take files register a rule with their own limit and types. The limit is enforced on the
 * declared Content-Length and on the bytes actually streamed; JSON bodies must also be valid UTF-8
 * (RFC 8259 §8.1), checked as they stream, so a bad byte is a 400 rather than a stored U+FFFD.
 * Failures of the underlying stream become `ClientClosedError`.
 */
export function bodyLimits(options: BodyLimitOptions) {
  const rules = options.rules ?? [];
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!METHODS_WITH_BODY.has(c.req.method)) return next();
    const raw = c.req.raw;
    const length = raw.headers.get("Content-Length");
    if (raw.body === null || length === "0") return next();

    const rule = rules.find((r) => r.method === c.req.method && (c.req.path === r.path || c.req.path.startsWith(`${r.path}/`)));
    const maxBytes = rule?.maxBytes ?? options.defaultMaxBytes(c);
    const type = mediaType(raw.headers.get("Content-Type") ?? undefined);
    let passed = false;
    const state: BodyState = {
      check: () => {
        if (passed) return;
        checkHeaders({ rule, type, length, maxBytes });
        passed = true;
      },
    };
    states.set(c, state);
    if (!options.authenticated?.(c)) state.check();

    const body = guardedBody(raw.body, { state, maxBytes, utf8: !rule });
    c.req.raw = new Request(raw, { body, duplex: "half" } as RequestInit);
    await next();
  });
}

/**
 * Route middleware for authenticated routes that read their body themselves (file uploads): runs
 * the deferred body checks right after `requireAuth()`, so a 415 or 413 comes before rate limits
 * and handlers.
 */
export function checkBody() {
  return createMiddleware<AppEnv>(async (c, next) => {
    states.get(c)?.check();
    await next();
  });
}

/**
 * What to answer for an error thrown while the body was being read. Hono's JSON validator turns any
 * failure of `c.req.json()` into "Malformed JSON" (an HTTPException); the real reason (cut off, too
 * large, not UTF-8, refused media type) was kept here.
 */
export function bodyFailure(error: unknown, c: Context<AppEnv>): unknown {
  const failure = states.get(c)?.failure;
  if (failure === undefined || error instanceof DomainError) return error;
  if (error instanceof HTTPException || error === failure || isSameFailure(error, failure)) return failure;
  return error;
}

// A JS stream's error can reach the reader as a copy (workerd re-creates it crossing native code).
function isSameFailure(error: unknown, failure: unknown): boolean {
  return error instanceof Error && failure instanceof Error && error.name === failure.name && error.message === failure.message;
}

function checkHeaders(input: {
  rule: BodyRule | undefined;
  type: string | undefined;
  length: string | null;
  maxBytes: number;
}): void {
  const { rule, type, length, maxBytes } = input;
  const typeAccepted = rule
    ? rule.contentTypes.includes("*") || (type !== undefined && rule.contentTypes.includes(type))
    : type !== undefined && isJson(type);
  if (!typeAccepted) {
    const expected = rule ? rule.contentTypes.join(", ") : "application/json";
    throw new DomainError("UNSUPPORTED_MEDIA_TYPE", `Content-Type must be ${expected}; got ${type ?? "none"}.`);
  }
  if (length !== null) {
    const declared = Number(length);
    if (!Number.isSafeInteger(declared) || declared < 0) throw new DomainError("BAD_REQUEST", "Invalid Content-Length header.");
    if (declared > maxBytes) throw tooLarge(maxBytes);
  }
}

function tooLarge(maxBytes: number): DomainError {
  return new DomainError("PAYLOAD_TOO_LARGE", `Request body exceeds the limit of ${maxBytes} bytes.`);
}

function notUtf8(): DomainError {
  return new DomainError("MALFORMED_JSON", "The request body is not valid UTF-8 (RFC 8259 §8.1).");
}

/**
 * The request body as handlers see it. Pulled only on demand (high-water mark 0), so nothing is
 * read before a handler asks; the first read runs the deferred checks. Errors the stream with a 413
 * past the limit, a MALFORMED_JSON on invalid UTF-8, and a `ClientClosedError` when the source fails.
 */
function guardedBody(
  source: ReadableStream<Uint8Array>,
  options: { state: BodyState; maxBytes: number; utf8: boolean },
): ReadableStream<Uint8Array> {
  const { state, maxBytes } = options;
  // The source is locked only once a handler reads: an answer sent without reading (401, 415, 429)
  // leaves it to the runtime to drain, which it cannot do with a stream locked to our reader.
  let locked: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const reader = (): ReadableStreamDefaultReader<Uint8Array> => {
    locked ??= source.getReader();
    return locked;
  };
  const decoder = options.utf8 ? new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }) : null;
  let seen = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const fail = (error: unknown) => {
          state.failure = error;
          controller.error(error);
          reader()
            .cancel()
            .catch(() => undefined);
        };
        try {
          state.check();
        } catch (error) {
          return fail(error);
        }
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader().read();
        } catch (cause) {
          return fail(new ClientClosedError(cause));
        }
        if (result.done) {
          if (decoder && !decodes(decoder)) return fail(notUtf8());
          return controller.close();
        }
        seen += result.value.byteLength;
        if (seen > maxBytes) return fail(tooLarge(maxBytes));
        if (decoder && !decodes(decoder, result.value)) return fail(notUtf8());
        controller.enqueue(result.value);
      },
      cancel(reason) {
        return locked ? locked.cancel(reason) : source.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Feeds the fatal decoder; without a chunk, flushes it (a sequence cut off at the end is invalid). */
function decodes(decoder: TextDecoder, chunk?: Uint8Array): boolean {
  try {
    if (chunk) decoder.decode(chunk, { stream: true });
    else decoder.decode();
    return true;
  } catch {
    return false;
  }
}
