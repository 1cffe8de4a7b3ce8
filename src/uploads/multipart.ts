/**
 * Streams one file field out of a `multipart/form-data` body (RFC 7578, framing of RFC 2046
 * §5.1.1) without buffering the file: parts before it are skipped (bounded), the file part's
 * bytes are passed on as they arrive, and nothing after its closing delimiter is read.
 */
import { DomainError } from "../errors/domain-error";

export interface FilePart {
  /** The part's `filename` parameter, when it has one. */
  fileName: string | null;
  body: ReadableStream<Uint8Array>;
}

/** Preamble, part headers and fields other than the file: small by nature, bounded against abuse. */
const MAX_OVERHEAD_BYTES = 64 * 1024;
const CRLF = new Uint8Array([13, 10]);
const HEADER_END = new Uint8Array([13, 10, 13, 10]);
const encoder = new TextEncoder();

function badMultipart(detail: string): DomainError {
  return new DomainError("BAD_REQUEST", `Malformed multipart/form-data body: ${detail}`);
}

/** The `boundary` parameter of a multipart Content-Type (RFC 2046: 1 to 70 characters). */
export function multipartBoundary(contentType: string): string {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw badMultipart("the Content-Type has no boundary parameter.");
  return boundary;
}

export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  if (first === undefined) return from;
  for (
    let i = haystack.indexOf(first, from);
    i !== -1 && i + needle.length <= haystack.length;
    i = haystack.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b;
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/** Reads until `needle` occurs in the buffered bytes; returns its index. Bounded by the overhead limit. */
async function bufferUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  state: { buffer: Uint8Array },
  needle: Uint8Array,
): Promise<number> {
  for (;;) {
    const at = indexOfBytes(state.buffer, needle);
    if (at !== -1) return at;
    if (state.buffer.byteLength > MAX_OVERHEAD_BYTES) throw badMultipart("no file part within the first 64 KiB.");
    const { done, value } = await reader.read();
    if (done) throw badMultipart("no file part.");
    state.buffer = concat(state.buffer, value);
  }
}

function dispositionParam(headers: string, name: string): string | null {
  const line = headers.split("\r\n").find((header) => /^content-disposition\s*:/i.test(header));
  const match = line && new RegExp(`;\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, "i").exec(line);
  return match ? (match[1] ?? "").replace(/\\(.)/g, "$1") : null;
}

/** Finds the part named `field` and streams its content. */
export async function filePartOf(body: ReadableStream<Uint8Array>, contentType: string, field = "file"): Promise<FilePart> {
  const boundary = encoder.encode(`--${multipartBoundary(contentType)}`);
  const reader = body.getReader();
  // The first delimiter may open the body; every later one is preceded by CRLF (RFC 2046 §5.1.1).
  const state = { buffer: CRLF.slice() };
  const delimiter = concat(CRLF, boundary);
  try {
    for (;;) {
      const at = await bufferUntil(reader, state, delimiter);
      state.buffer = state.buffer.subarray(at + delimiter.byteLength);
      const headerEnd = await bufferUntil(reader, state, HEADER_END);
      const headers = new TextDecoder().decode(state.buffer.subarray(0, headerEnd));
      if (headers.startsWith("--")) throw badMultipart(`no "${field}" part.`);
      state.buffer = state.buffer.subarray(headerEnd + HEADER_END.byteLength);
      if (dispositionParam(headers, "name") === field) {
        return { fileName: dispositionParam(headers, "filename"), body: partStream(reader, state.buffer, delimiter) };
      }
      // Another field: the next iteration skips its content up to the next delimiter (bounded).
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    throw error;
  }
}

/** The part's bytes up to (not including) the next delimiter; the rest of the body is left unread. */
function partStream(reader: ReadableStreamDefaultReader<Uint8Array>, initial: Uint8Array, delimiter: Uint8Array) {
  let carry = initial;
  let finished = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const at = indexOfBytes(carry, delimiter);
        if (at !== -1) {
          if (at > 0) controller.enqueue(carry.slice(0, at));
          finished = true;
          controller.close();
          await reader.cancel().catch(() => undefined);
          return;
        }
        // Keep what could be the start of a delimiter split across chunks.
        const safe = carry.byteLength - (delimiter.byteLength - 1);
        if (safe > 0) {
          controller.enqueue(carry.slice(0, safe));
          carry = carry.slice(safe);
          return;
        }
        const { done, value } = await reader.read();
        if (done) throw badMultipart("the file part has no closing boundary.");
        carry = concat(carry, value);
      }
    },
    async cancel(reason) {
      if (!finished) await reader.cancel(reason).catch(() => undefined);
    },
  });
}
