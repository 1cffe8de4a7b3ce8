/**
 * The archive's way into R2 without ever holding it: bytes are cut into parts as they come and
 * sent as an R2 multipart upload. R2 requires every part but the last to be at least 5 MiB (and
 * all of them the same size), so parts are exactly 5 MiB and this sink buffers at most that.
 * An archive that ends within its first part is one plain `put`. Nothing is visible under the key
 * until `close()` succeeds; `abort()` removes the parts already sent.
 */
export const PART_BYTES = 5 * 1024 * 1024;

const HTTP_METADATA = {
  contentType: "application/zip",
  // The bucket is private; the download route sets the person-facing headers itself.
  cacheControl: "no-store",
} as const;

export interface ArchiveSink {
  write(chunk: Uint8Array): Promise<void>;
  /** Completes the object; the total bytes written. */
  close(): Promise<number>;
  abort(): Promise<void>;
}

export function r2ArchiveSink(bucket: R2Bucket, key: string, customMetadata: Record<string, string>): ArchiveSink {
  // One part-sized buffer, filled in place: no per-chunk copies piling up.
  let part = new Uint8Array(PART_BYTES);
  let filled = 0;
  let total = 0;
  let upload: R2MultipartUpload | null = null;
  const parts: R2UploadedPart[] = [];

  const flush = async (bytes: Uint8Array): Promise<void> => {
    upload ??= await bucket.createMultipartUpload(key, { httpMetadata: HTTP_METADATA, customMetadata });
    parts.push(await upload.uploadPart(parts.length + 1, bytes));
  };

  return {
    async write(chunk) {
      total += chunk.byteLength;
      let offset = 0;
      while (offset < chunk.byteLength) {
        const taken = Math.min(PART_BYTES - filled, chunk.byteLength - offset);
        part.set(chunk.subarray(offset, offset + taken), filled);
        filled += taken;
        offset += taken;
        if (filled === PART_BYTES) {
          await flush(part);
          part = new Uint8Array(PART_BYTES);
          filled = 0;
        }
      }
    },
    async close() {
      const rest = part.subarray(0, filled);
      if (upload === null) {
        await bucket.put(key, rest, { httpMetadata: HTTP_METADATA, customMetadata });
      } else {
        if (filled > 0) await flush(rest);
        await upload.complete(parts);
      }
      return total;
    },
    async abort() {
      filled = 0;
      await upload?.abort().catch(() => undefined);
    },
  };
}
