/**
 * Sends one Health Connect export to `POST /v1/uploads` with XMLHttpRequest, the one browser API
 * that reports upload progress. The body is the file itself (`application/avro`), named by
 * `Content-Disposition`, as src/uploads/routes.ts expects; the server deduplicates by the file's
 * SHA-256, so sending the same file again is safe and answers 200 with the first upload.
 */
import { type ApiClient, ProblemError, problemOf } from "../api.ts";

/** What `POST /v1/uploads` answers (UploadReceipt in /openapi.json). */
export interface UploadReceipt {
  uploadId: string;
  status: UploadStatus;
  recordType: string;
  recordCount: number;
  sha256: string;
  statusUrl: string;
}

export type UploadStatus = "queued" | "processing" | "completed" | "failed";

export interface SentFile {
  receipt: UploadReceipt;
  /** True when this account had already uploaded the same bytes (the server answered 200). */
  sentBefore: boolean;
}

/** The server's limit (src/uploads/body-rule.ts): larger files are refused before a byte is sent. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

/** How many times a 429 (10 uploads a minute) is waited out before its reason is shown. */
const QUOTA_WAITS = 3;

interface Attempt {
  status: number;
  data: unknown;
  retryAfterSeconds: number;
}

/**
 * A header value is Latin-1 only and the server reads a quoted `filename` (RFC 6266 §4.1):
 * anything else becomes "_", quotes and backslashes are escaped.
 */
export function contentDisposition(name: string): string {
  const safe = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "\\$&");
  return `attachment; filename="${safe}"`;
}

function attempt(file: File, token: string, onProgress: (fraction: number) => void, signal: AbortSignal): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    xhr.open("POST", "/v1/uploads");
    xhr.responseType = "text";
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Content-Type", "application/avro");
    xhr.setRequestHeader("Content-Disposition", contentDisposition(file.name));
    xhr.setRequestHeader("Accept", "application/json, application/problem+json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      signal.removeEventListener("abort", abort);
      let data: unknown = null;
      try {
        data = xhr.responseText === "" ? null : JSON.parse(xhr.responseText);
      } catch {
        // Not JSON (a proxy's error page): the status alone explains it.
      }
      resolve({ status: xhr.status, data, retryAfterSeconds: Number(xhr.getResponseHeader("Retry-After") ?? "0") || 1 });
    });
    xhr.addEventListener("error", () => {
      signal.removeEventListener("abort", abort);
      reject(new ProblemError("The file could not be sent: Pulse could not be reached.", 0));
    });
    xhr.addEventListener("abort", () => {
      signal.removeEventListener("abort", abort);
      reject(new DOMException("The upload was cancelled.", "AbortError"));
    });
    signal.addEventListener("abort", abort, { once: true });
    xhr.send(file);
  });
}

function wait(seconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, seconds * 1000);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new DOMException("The upload was cancelled.", "AbortError"));
      },
      { once: true },
    );
  });
}

export interface SendOptions {
  signal: AbortSignal;
  onProgress(fraction: number): void;
  /** Called when the per-user quota is reached and the upload waits before trying again. */
  onWait(seconds: number): void;
}

/**
 * Sends the file; on 401 refreshes the tokens once and sends it again, on 429 waits for
 * Retry-After (a few times). Throws a ProblemError with the server's reason when it is refused.
 */
export async function sendFile(api: ApiClient, file: File, options: SendOptions): Promise<SentFile> {
  let refreshed = false;
  let waits = 0;
  for (;;) {
    options.signal.throwIfAborted();
    const token = api.accessToken();
    if (token === null) throw new ProblemError("You are not signed in.", 401);
    const result = await attempt(file, token, options.onProgress, options.signal);
    if (result.status === 200 || result.status === 202) {
      return { receipt: result.data as UploadReceipt, sentBefore: result.status === 200 };
    }
    if (result.status === 401 && !refreshed) {
      refreshed = true;
      if (await api.refresh()) continue;
    }
    if (result.status === 429 && waits < QUOTA_WAITS) {
      waits += 1;
      options.onWait(result.retryAfterSeconds);
      await wait(result.retryAfterSeconds, options.signal);
      continue;
    }
    throw problemOf(result.status, result.data);
  }
}
