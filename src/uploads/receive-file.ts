/**
 * One pass over an uploaded file, as its bytes arrive (DESIGN §6): every byte is counted against
 * the 50 MiB limit, hashed (SHA-256, for idempotency), walked by the frame scanner (record count,
 * every block's framing) and written to R2. At the scanner's two milestones the Avro reader gets
 * the bytes so far: the header decides the record type (hence the R2 key) before anything is
 * written, and the first block is decoded against the type's reader schema before the upload is
 * accepted. Any failure aborts the R2 write: nothing half-written is left behind.
 *
 * Rather than tee-ing the body into a validation branch, the few bytes the reader needs are kept
 * aside (header ≤ 64 KiB, first block ≤ 8 MiB): a tee's faster branch buffers whatever the slower
 * one has not consumed yet, which for a 50 MiB file is unbounded in practice.
 */
import { DEFAULT_AVRO_LIMITS, openContainer, type RecordDecoder } from "../avro";
import { DomainError } from "../errors/domain-error";
import type { RecordType } from "../health-connect/record-types";
import { MAX_UPLOAD_BYTES } from "./body-rule";
import { fileProblem, noRecords } from "./file-errors";
import { ContainerScanner } from "./frame-scanner";
import { type RawObjectSink, rawObjectSink } from "./raw-object";
import { recordDecoderFor } from "./record-decoder";

export interface ReceivedFile {
  recordType: RecordType;
  recordCount: number;
  sha256: string;
  byteSize: number;
  r2Key: string;
}

export interface ReceiveInput {
  body: ReadableStream<Uint8Array>;
  /** Exact length of `body` when the request declared it (raw bodies), else null. */
  length: number | null;
  /** Builds the R2 key once the record type is known. */
  keyFor: (recordType: RecordType) => string;
  customMetadata: Record<string, string>;
}

const LIMITS = DEFAULT_AVRO_LIMITS;

function concat(chunks: readonly Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let offset = 0;
  for (const chunk of chunks) {
    if (offset >= bytes) break;
    const part = chunk.subarray(0, bytes - offset);
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

async function readHeader(prefix: Uint8Array): Promise<{ recordType: RecordType; decoder: RecordDecoder }> {
  const container = await openContainer(streamOf(prefix), { limits: LIMITS });
  await container.cancel();
  return recordDecoderFor(container.header.schema);
}

async function decodeFirstBlock(prefix: Uint8Array, decoder: RecordDecoder): Promise<void> {
  const container = await openContainer(streamOf(prefix), { limits: LIMITS });
  for await (const block of container.blocks(decoder)) {
    if (block.index === 0) break;
  }
  await container.cancel();
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export async function receiveFile(bucket: R2Bucket, input: ReceiveInput): Promise<ReceivedFile> {
  const reader = input.body.getReader();
  const scanner = new ContainerScanner(LIMITS);
  const digest = new crypto.DigestStream("SHA-256");
  // Aborting the hasher rejects `digest`; awaited only on success, so observe it here.
  digest.digest.catch(() => undefined);
  const hasher = digest.getWriter();
  let prefix: Uint8Array[] | null = [];
  let pending: Uint8Array[] = [];
  let sink: RawObjectSink | null = null;
  let decoder: RecordDecoder | null = null;
  let recordType: RecordType | null = null;
  let key = "";
  let byteSize = 0;

  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      byteSize += value.byteLength;
      if (byteSize > MAX_UPLOAD_BYTES)
        throw new DomainError("PAYLOAD_TOO_LARGE", `The file exceeds the limit of ${MAX_UPLOAD_BYTES} bytes.`);
      prefix?.push(value);
      for (let rest = value; rest.byteLength > 0; ) {
        rest = rest.subarray(scanner.push(rest));
        if (scanner.milestone === "header" && prefix && scanner.headerBytes !== null) {
          ({ recordType, decoder } = await readHeader(concat(prefix, scanner.headerBytes)));
          key = input.keyFor(recordType);
          sink = rawObjectSink(bucket, { key, length: input.length, customMetadata: input.customMetadata });
          for (const chunk of pending) await sink.write(chunk);
          pending = [];
        } else if (scanner.milestone === "first-block" && prefix && decoder && scanner.firstBlockEnd !== null) {
          await decodeFirstBlock(concat(prefix, scanner.firstBlockEnd), decoder);
          prefix = null;
        }
      }
      await hasher.write(value);
      if (sink) await sink.write(value);
      else pending.push(value);
    }
    scanner.finish();
    if (!sink || recordType === null) throw new DomainError("BAD_REQUEST", "The file ends inside its header.");
    if (scanner.records === 0) throw noRecords();
    await hasher.close();
    await sink.close();
    return { recordType, recordCount: scanner.records, sha256: hex(await digest.digest), byteSize, r2Key: key };
  } catch (error) {
    await Promise.all([reader.cancel().catch(() => undefined), hasher.abort().catch(() => undefined), sink?.abort(error)]);
    throw fileProblem(error);
  }
}
