/**
 * Writes an upload's bytes to R2 as they arrive, never holding the whole file. R2 stores a
 * streamed `put` only when it knows the length up front, so:
 *  - a raw body with Content-Length streams through a `FixedLengthStream` into one `put`;
 *  - a body of unknown length (chunked, or the file part of a multipart body) is cut into 5 MiB
 *    parts: a file that ends within the first part is one `put` of that part, a longer one an R2
 *    multipart upload (every part but the last exactly 5 MiB, as R2 requires).
 * Either way the object appears only when `close()` succeeds; `abort()` leaves nothing behind.
 */

/** R2's minimum part size; also the most this sink buffers at a time. */
export const PART_BYTES = 5 * 1024 * 1024;

export interface RawObjectSink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(reason: unknown): Promise<void>;
}

export interface RawObjectOptions {
  key: string;
  /** The exact byte length when known (Content-Length of a raw body). */
  length: number | null;
  customMetadata: Record<string, string>;
}

const HTTP_METADATA = { contentType: "application/avro" } as const;

export function rawObjectSink(bucket: R2Bucket, options: RawObjectOptions): RawObjectSink {
  return options.length === null ? partedSink(bucket, options) : fixedLengthSink(bucket, options, options.length);
}

function fixedLengthSink(bucket: R2Bucket, options: RawObjectOptions, length: number): RawObjectSink {
  const stream = new FixedLengthStream(length);
  const put = bucket.put(options.key, stream.readable, { httpMetadata: HTTP_METADATA, customMetadata: options.customMetadata });
  // Observed by close()/abort(); without this an aborted put would surface as an unhandled rejection.
  put.catch(() => undefined);
  const writer = stream.writable.getWriter();
  return {
    write: (chunk) => writer.write(chunk),
    async close() {
      await writer.close();
      await put;
    },
    async abort(reason) {
      await writer.abort(reason).catch(() => undefined);
      await put.catch(() => undefined);
    },
  };
}

function partedSink(bucket: R2Bucket, options: RawObjectOptions): RawObjectSink {
  let buffered: Uint8Array[] = [];
  let bufferedBytes = 0;
  let upload: R2MultipartUpload | null = null;
  const parts: R2UploadedPart[] = [];

  const take = (bytes: number): Uint8Array => {
    const part = new Uint8Array(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = buffered.shift();
      if (chunk === undefined) break;
      const used = Math.min(chunk.byteLength, bytes - filled);
      part.set(chunk.subarray(0, used), filled);
      filled += used;
      if (used < chunk.byteLength) buffered.unshift(chunk.subarray(used));
    }
    bufferedBytes -= filled;
    return part;
  };

  const uploadPart = async (part: Uint8Array): Promise<void> => {
    upload ??= await bucket.createMultipartUpload(options.key, {
      httpMetadata: HTTP_METADATA,
      customMetadata: options.customMetadata,
    });
    parts.push(await upload.uploadPart(parts.length + 1, part));
  };

  return {
    async write(chunk) {
      buffered.push(chunk);
      bufferedBytes += chunk.byteLength;
      while (bufferedBytes >= PART_BYTES) await uploadPart(take(PART_BYTES));
    },
    async close() {
      if (upload === null) {
        await bucket.put(options.key, take(bufferedBytes), {
          httpMetadata: HTTP_METADATA,
          customMetadata: options.customMetadata,
        });
        return;
      }
      if (bufferedBytes > 0) await uploadPart(take(bufferedBytes));
      await upload.complete(parts);
    },
    async abort() {
      buffered = [];
      bufferedBytes = 0;
      await upload?.abort().catch(() => undefined);
    },
  };
}
