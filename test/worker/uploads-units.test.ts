import { describe, expect, it } from "vitest";
import { AvroError, DEFAULT_AVRO_LIMITS } from "../../src/avro";
import type { MappedObservation, MappedRecords } from "../../src/health-connect/mapped";
import { Chunker } from "../../src/uploads/chunker";
import { ContainerScanner } from "../../src/uploads/frame-scanner";
import { filePartOf, multipartBoundary } from "../../src/uploads/multipart";
import { encodeHeartRate, heartRateFile, heartRateRecord, rawContainer, SAMPLES, sampleBytes } from "./helpers/upload-files";

/** Scans `bytes` cut into `size`-byte chunks; returns what the scanner saw, milestones included. */
function scan(bytes: Uint8Array, size: number) {
  const scanner = new ContainerScanner(DEFAULT_AVRO_LIMITS);
  const milestones: string[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += size) {
    for (let rest = bytes.subarray(offset, offset + size); rest.byteLength > 0; ) {
      rest = rest.subarray(scanner.push(rest));
      if (scanner.milestone)
        milestones.push(`${scanner.milestone}@${scanner.milestone === "header" ? scanner.headerBytes : scanner.firstBlockEnd}`);
    }
  }
  scanner.finish();
  return { records: scanner.records, blocks: scanner.blocks, milestones };
}

function scanError(bytes: Uint8Array, size: number): string {
  try {
    scan(bytes, size);
  } catch (error) {
    return error instanceof AvroError ? error.code : String(error);
  }
  return "none";
}

describe("frame scanner", () => {
  it("finds the same records, blocks and milestones however the bytes are chunked", async () => {
    const file = await heartRateFile(7, { blockRecords: 3, samples: 2 });
    const whole = scan(file, file.byteLength);
    expect(whole.records).toBe(7);
    expect(whole.blocks).toBe(3);
    expect(whole.milestones).toHaveLength(2);
    for (const size of [1, 2, 3, 7, 16, 17, 64]) expect(scan(file, size)).toEqual(whole);
    for (const name of Object.values(SAMPLES)) {
      const bytes = sampleBytes(name);
      expect(scan(bytes, 5)).toEqual(scan(bytes, bytes.byteLength));
    }
  });

  it("refuses the same hostile framing at every chunking", () => {
    const record = encodeHeartRate(heartRateRecord(0));
    const cases: [Uint8Array, string][] = [
      [rawContainer({ blocks: [{ count: 2 ** 31, data: record }] }), "LIMIT_EXCEEDED"],
      [rawContainer({ blocks: [{ count: -1, data: record }] }), "CORRUPT_DATA"],
      [rawContainer({ blocks: [{ count: 1, data: record, size: 9 * 1024 * 1024 }] }), "LIMIT_EXCEEDED"],
      [rawContainer({ blocks: [{ count: 1, data: record, sync: new Uint8Array(16) }] }), "BAD_SYNC"],
      [rawContainer({ blocks: [{ count: 1, data: record }] }).subarray(0, 60), "TRUNCATED"],
      [new Uint8Array([0x4f, 0x62, 0x6a, 0x02]), "BAD_MAGIC"],
      [
        new Uint8Array([0x4f, 0x62, 0x6a, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        "CORRUPT_DATA",
      ],
      [new Uint8Array(0), "EMPTY_FILE"],
    ];
    for (const [bytes, code] of cases) {
      for (const size of [1, 3, Math.max(1, bytes.byteLength)]) expect(scanError(bytes, size)).toBe(code);
    }
  });
});

describe("multipart/form-data", () => {
  async function fileOf(body: string, contentType = "multipart/form-data; boundary=b0undary") {
    const part = await filePartOf(new Blob([body]).stream(), contentType);
    return { fileName: part.fileName, text: await new Response(part.body).text() };
  }

  it("reads the boundary, quoted or not", () => {
    expect(multipartBoundary('multipart/form-data; boundary="a b:c"')).toBe("a b:c");
    expect(multipartBoundary("multipart/form-data;boundary=xyz; charset=utf-8")).toBe("xyz");
    expect(() => multipartBoundary("multipart/form-data")).toThrow(/no boundary/);
  });

  it("skips other fields and stops at the file part's closing delimiter", async () => {
    const body =
      'preamble\r\n--b0undary\r\nContent-Disposition: form-data; name="filename"\r\n\r\nnot the file\r\n' +
      '--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a\\"b.avro"\r\nContent-Type: application/avro\r\n\r\n' +
      'line one\r\n--b0undar not yet\r\n--b0undary\r\nContent-Disposition: form-data; name="after"\r\n\r\nignored\r\n--b0undary--\r\n';
    expect(await fileOf(body)).toEqual({ fileName: 'a"b.avro', text: "line one\r\n--b0undar not yet" });
  });

  it("answers 400 without a file field or a closing delimiter", async () => {
    await expect(fileOf('--b0undary\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b0undary--\r\n')).rejects.toThrow(
      /no file part/,
    );
    await expect(fileOf('--b0undary\r\nContent-Disposition: form-data; name="file"\r\n\r\nunfinished')).rejects.toThrow(
      /no closing boundary/,
    );
  });
});

describe("chunker", () => {
  const observation = (i: number): MappedObservation => ({
    metric: "heart_rate",
    start: i,
    end: i,
    value: 60,
    unit: "bpm",
    sourceKind: "upload",
    sourceApp: "app",
    device: null,
    sourceRecordId: `r${Math.floor(i / 3000)}`,
    zoneOffsetSeconds: null,
    localDate: "2026-10-01",
    flagged: false,
    version: 0,
  });
  const mapped = (observations: MappedObservation[], rejected = 0): MappedRecords => ({
    observations,
    sleepSessions: [],
    workouts: [],
    rejected: Array.from({ length: rejected }, () => ({ sourceRecordId: null, reason: "bad" })),
  });

  it("cuts at 10,000 observations, splitting a long series, and carries rejections with the chunk", () => {
    const chunker = new Chunker();
    chunker.add(
      mapped(
        Array.from({ length: 22500 }, (_, i) => observation(i)),
        2,
      ),
    );
    const sizes: [number, number, number][] = [];
    for (let chunk = chunker.take(); chunk !== null; chunk = chunker.take())
      sizes.push([chunk.index, chunk.observations.length, chunk.rejected]);
    expect(sizes).toEqual([
      [0, 10000, 2],
      [1, 10000, 0],
    ]);
    chunker.add(mapped([], 1));
    const last = chunker.take(true);
    expect(last && [last.index, last.observations.length, last.rejected]).toEqual([2, 2500, 1]);
    expect(chunker.take(true)).toBeNull();
  });
});
