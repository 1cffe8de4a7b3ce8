import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { getDb } from "../../src/db/client";
import { uploads } from "../../src/db/schema";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { postFile, uploadOk } from "./helpers/upload-api";
import {
  deflateRaw,
  encodeHeartRate,
  HEART_RATE_SCHEMA_JSON,
  heartRateRecord,
  rawContainer,
  SAMPLES,
  sampleBytes,
} from "./helpers/upload-files";

/**
 * Files built to hurt (DESIGN §6: limits against memory bombs and corrupt files): each is refused at upload time with a clear
 * problem document, nothing of it is left in R2 or D1, and the next upload works.
 */
const app = createApp();
const db = getDb(env.DB);

interface Problem {
  status: number;
  code: string;
  detail: string;
  avroError?: string;
  supportedRecordTypes?: string[];
}

async function expectRefused(user: SessionUser, body: Uint8Array, status: number, avroError?: string): Promise<Problem> {
  const res = await postFile(app, user, body);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const problem = await res.json<Problem>();
  expect({ status: res.status, avroError: problem.avroError }).toEqual({ status, avroError });
  expect((await env.LAKE.list({ prefix: `raw/${user.user.id}/` })).objects).toEqual([]);
  expect(await db.select().from(uploads).where(eq(uploads.userId, user.user.id))).toEqual([]);
  return problem;
}

const record = (i: number) => encodeHeartRate(heartRateRecord(i, { samples: 3 }));

describe("hostile uploads", () => {
  it("an empty file, or one with a header and no records: 400", async () => {
    const user = await createSessionUser();
    await expectRefused(user, new Uint8Array(0), 400, "EMPTY_FILE");
    const problem = await expectRefused(user, rawContainer({ blocks: [] }), 400);
    expect(problem.detail).toBe("The file holds no records.");
  });

  it("not Avro (wrong magic): 415", async () => {
    const user = await createSessionUser();
    const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, ...new TextEncoder().encode("not a health export")]);
    const problem = await expectRefused(user, zip, 415, "BAD_MAGIC");
    expect(problem.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    await expectRefused(user, new Uint8Array([0x4f, 0x62]), 400, "TRUNCATED");
    await expectRefused(user, new Uint8Array([0x7b, 0x7d]), 415, "BAD_MAGIC");
  });

  it("truncated inside the header or inside a block: 400", async () => {
    const user = await createSessionUser();
    const bytes = sampleBytes(SAMPLES.BloodGlucose);
    await expectRefused(user, bytes.slice(0, 100), 400, "TRUNCATED");
    await expectRefused(user, bytes.slice(0, bytes.byteLength - 20), 400, "TRUNCATED");
  });

  it("a block not followed by the sync marker, even a later one: 400", async () => {
    const user = await createSessionUser();
    const last = sampleBytes(SAMPLES.HeartRate);
    last[last.byteLength - 1] = (last[last.byteLength - 1] ?? 0) ^ 0xff;
    await expectRefused(user, last, 400, "BAD_SYNC");
    const wrong = new Uint8Array(16).fill(9);
    const later = rawContainer({
      blocks: [0, 1, 2, 3, 4].map((i) => ({ count: 1, data: record(i), ...(i === 4 ? { sync: wrong } : {}) })),
    });
    await expectRefused(user, later, 400, "BAD_SYNC");
  });

  it("an unknown codec: 422 naming the supported ones", async () => {
    const user = await createSessionUser();
    const problem = await expectRefused(
      user,
      rawContainer({ codec: "snappy", blocks: [{ count: 1, data: record(0) }] }),
      422,
      "UNKNOWN_CODEC",
    );
    expect(problem.detail).toMatch(/null and deflate/);
  });

  it("a block declaring 2^31 items: 400, before anything is allocated", async () => {
    const user = await createSessionUser();
    const problem = await expectRefused(
      user,
      rawContainer({ blocks: [{ count: 2 ** 31, data: record(0) }] }),
      400,
      "LIMIT_EXCEEDED",
    );
    expect(problem.detail).toMatch(/2147483648/);
    await expectRefused(user, rawContainer({ blocks: [{ count: 1, data: record(0), size: 2 ** 40 }] }), 400, "LIMIT_EXCEEDED");
  });

  it("a deflate bomb (40 MiB of zeros in a 40 KiB block): 400", async () => {
    const user = await createSessionUser();
    const bomb = await deflateRaw(new Uint8Array(40 * 1024 * 1024));
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    await expectRefused(user, rawContainer({ codec: "deflate", blocks: [{ count: 1, data: bomb }] }), 400, "LIMIT_EXCEEDED");
  });

  it("a schema outside the 31 Health Connect record types: 422 listing them", async () => {
    const user = await createSessionUser();
    const schemaJson = JSON.stringify({
      type: "record",
      name: "AvroFooRecord",
      namespace: "com.example",
      fields: [{ name: "x", type: "long" }],
    });
    const problem = await expectRefused(
      user,
      rawContainer({ schemaJson, blocks: [{ count: 1, data: new Uint8Array([2]) }] }),
      422,
      "UNSUPPORTED_SCHEMA",
    );
    expect(problem.detail).toContain("com.example.AvroFooRecord");
    expect(problem.supportedRecordTypes).toHaveLength(31);
    expect(problem.supportedRecordTypes).toContain("HeartRate");
  });

  it("a Health Connect schema whose fields cannot be read as that type: 422", async () => {
    const user = await createSessionUser();
    const schema = JSON.parse(HEART_RATE_SCHEMA_JSON) as { fields: { name: string; type: unknown }[] };
    const broken = {
      ...schema,
      fields: schema.fields.map((field) => (field.name === "startTimeEpochMillis" ? { ...field, type: "string" } : field)),
    };
    await expectRefused(
      user,
      rawContainer({ schemaJson: JSON.stringify(broken), blocks: [{ count: 1, data: record(0) }] }),
      422,
      "SCHEMA_MISMATCH",
    );
  });

  it("a first block whose bytes are not records of the schema: 400", async () => {
    const user = await createSessionUser();
    const garbage = new Uint8Array(64).fill(0xff);
    const problem = await expectRefused(user, rawContainer({ blocks: [{ count: 1, data: garbage }] }), 400, "CORRUPT_DATA");
    expect(problem.code).toBe("BAD_REQUEST");
  });

  it("leaves the uploader able to upload a good file right after", async () => {
    const user = await createSessionUser();
    await expectRefused(user, rawContainer({ blocks: [{ count: 2 ** 31, data: record(0) }] }), 400, "LIMIT_EXCEEDED");
    expect((await uploadOk(app, user, sampleBytes(SAMPLES.Steps))).recordType).toBe("Steps");
  });
});
