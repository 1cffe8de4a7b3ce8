import { createMiddleware } from "hono/factory";
import { DomainError } from "../../errors/domain-error";
import { readAtMost } from "../read-at-most";
import type { AppEnv } from "../types";

export interface BodyRule {
  method: string;
  /** A path prefix such as `/v1/uploads`. */
  path: string;
  maxBytes: number;
  /** Media types accepted on this route instead of JSON; `*` accepts any. */
  contentTypes: string[];
}

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
 * declared Content-Length and, for chunked bodies, on the bytes actually streamed.
 */
export function bodyLimits(options: { defaultMaxBytes: (c: { var: AppEnv["Variables"] }) => number; rules?: BodyRule[] }) {
  const rules = options.rules ?? [];
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!METHODS_WITH_BODY.has(c.req.method)) return next();
    const raw = c.req.raw;
    const length = raw.headers.get("Content-Length");
    const hasBody = raw.body !== null && length !== "0";
    if (!hasBody) return next();

    const rule = rules.find((r) => r.method === c.req.method && (c.req.path === r.path || c.req.path.startsWith(`${r.path}/`)));
    const maxBytes = rule?.maxBytes ?? options.defaultMaxBytes(c);
    const type = mediaType(raw.headers.get("Content-Type") ?? undefined);
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
    } else if (raw.body) {
      // Chunked body of unknown size. JSON bodies are small: read them here, bounded, so a 413 is
      // answered before any handler runs. File routes keep streaming, with the bound applied as
      // bytes arrive (their handler sees the 413 DomainError as the stream's error).
      const body = rule ? limitStream(raw.body, maxBytes) : await readBounded(raw.body, maxBytes);
      c.req.raw = new Request(raw, { body, duplex: "half" } as RequestInit);
    }
    await next();
  });
}

function tooLarge(maxBytes: number): DomainError {
  return new DomainError("PAYLOAD_TOO_LARGE", `Request body exceeds the limit of ${maxBytes} bytes.`);
}

async function readBounded(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const bytes = await readAtMost(body, maxBytes);
  if (bytes === null) throw tooLarge(maxBytes);
  return bytes;
}

/** Passes bytes through until the limit, then errors the stream with a 413. */
function limitStream(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) controller.error(tooLarge(maxBytes));
        else controller.enqueue(chunk);
      },
    }),
  );
}
