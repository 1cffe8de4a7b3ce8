/**
 * The uploaded file inside a request (DESIGN §6): the raw body (`application/avro`,
 * `application/octet-stream`), or the `file` field of a `multipart/form-data` body, streamed.
 * Media types and the size limit are enforced earlier, by the body-limit rule (./body-rule.ts).
 */
import { filePartOf } from "./multipart";

export interface RequestFile {
  body: ReadableStream<Uint8Array>;
  /** Exact byte length when the request declared it for the file itself (raw bodies only). */
  length: number | null;
  fileName: string | null;
}

const MAX_FILE_NAME = 255;

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.close() });
}

/** A display name only: the last path segment, without control characters, bounded. */
export function cleanFileName(name: string | null | undefined): string | null {
  if (!name) return null;
  const base = name.slice(Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\")) + 1);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, "").trim();
  return clean.length === 0 ? null : clean.slice(0, MAX_FILE_NAME);
}

/** `filename` of a `Content-Disposition` header (RFC 6266), which raw uploads may send. */
function dispositionFileName(header: string | null): string | null {
  if (header === null) return null;
  const match = /;\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/i.exec(header);
  if (!match) return null;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : (match[2] ?? null);
}

export async function requestFile(request: Request): Promise<RequestFile> {
  const contentType = request.headers.get("Content-Type") ?? "";
  if (request.body === null) return { body: emptyStream(), length: 0, fileName: null };
  if (/^multipart\/form-data\s*(;|$)/i.test(contentType)) {
    const part = await filePartOf(request.body, contentType);
    return { body: part.body, length: null, fileName: cleanFileName(part.fileName) };
  }
  const declared = request.headers.get("Content-Length");
  return {
    body: request.body,
    length: declared === null ? null : Number(declared),
    fileName: cleanFileName(dispositionFileName(request.headers.get("Content-Disposition"))),
  };
}
