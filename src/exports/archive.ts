/**
 * A ZIP archive written file by file to a sink, never whole in memory (fflate's streaming `Zip`;
 * pure JavaScript, no eval and no Workers needed for the synchronous classes, so it runs in
 * workerd). fflate calls back synchronously while a chunk is pushed; the chunks it produced are
 * then written to the sink before the next is pushed, which keeps memory to about one page of
 * input plus the sink's 5 MiB part.
 *
 * Sizes are not known up front, so every entry uses a data descriptor (APPNOTE 4.3.9); without
 * ZIP64 an archive and each file stay under 4 GiB, far above a person's years of data.
 */
import { Zip, ZipDeflate, ZipPassThrough } from "fflate";
import type { ArchiveSink } from "./r2-sink";

export interface ArchiveFileStats {
  path: string;
  /** Records (NDJSON lines, JSON documents) the file holds; null for opaque files (uploads). */
  count: number | null;
  /** Uncompressed size. */
  bytes: number;
}

const encoder = new TextEncoder();

export class ArchiveWriter {
  readonly files: ArchiveFileStats[] = [];
  readonly #sink: ArchiveSink;
  readonly #zip: Zip;
  readonly #mtime: Date;
  #pending: Uint8Array[] = [];
  #failure: Error | null = null;

  constructor(sink: ArchiveSink, mtime: Date) {
    this.#sink = sink;
    this.#mtime = mtime;
    this.#zip = new Zip((error, chunk) => {
      if (error) this.#failure = error;
      else this.#pending.push(chunk);
    });
  }

  /**
   * Adds one file from its chunks (strings are UTF-8 encoded). Deflated unless `store`: uploads are
   * Avro files whose blocks are compressed already.
   */
  async addFile(
    path: string,
    chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
    options: { count?: number | null; store?: boolean } = {},
  ): Promise<ArchiveFileStats> {
    const file = options.store ? new ZipPassThrough(path) : new ZipDeflate(path, { level: 6 });
    file.mtime = this.#mtime;
    this.#zip.add(file);
    let bytes = 0;
    for await (const chunk of chunks) {
      const data = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
      if (data.byteLength === 0) continue;
      bytes += data.byteLength;
      file.push(data);
      await this.#drain();
    }
    file.push(new Uint8Array(0), true);
    await this.#drain();
    const stats = { path, count: options.count ?? null, bytes };
    this.files.push(stats);
    return stats;
  }

  /** Adds a file whose line count is only known once its pages are read. */
  async addCountedFile(path: string, pages: AsyncIterable<{ text: string; count: number }>): Promise<ArchiveFileStats> {
    let count = 0;
    const stats = await this.addFile(
      path,
      (async function* () {
        for await (const page of pages) {
          count += page.count;
          yield page.text;
        }
      })(),
    );
    stats.count = count;
    return stats;
  }

  /** Writes the central directory; the sink is then complete. */
  async end(): Promise<void> {
    this.#zip.end();
    await this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#failure) throw this.#failure;
    const pending = this.#pending;
    this.#pending = [];
    for (const chunk of pending) await this.#sink.write(chunk);
  }
}
