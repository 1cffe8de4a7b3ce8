import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { createApp } from "../../src/app";
import { getDb } from "../../src/db/client";
import { uploads } from "../../src/db/schema";
import { PART_BYTES } from "../../src/uploads/raw-object";
import type { UploadReceipt, UploadView } from "../../src/uploads/uploads";
import { type DeviceKey, dpopHeaders, generateDeviceKey } from "./helpers/dpop";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call } from "./helpers/test-app";
import { getUpload, postFile, uploadOk } from "./helpers/upload-api";
import { heartRateFile, SAMPLES, sampleBytes, sha256Hex } from "./helpers/upload-files";

const app = createApp();
const db = getDb(env.DB);

async function rawObjects(userId: string): Promise<string[]> {
  const listed = await env.LAKE.list({ prefix: `raw/${userId}/` });
  return listed.objects.map((object) => object.key);
}

describe("POST /v1/uploads", () => {
  it("stores the file in R2, records it and answers 202 with its record type, count and hash", async () => {
    const user = await createSessionUser();
    const bytes = sampleBytes(SAMPLES.BloodGlucose);
    const res = await postFile(app, user, bytes, { headers: { "Content-Length": String(bytes.byteLength) } });
    expect(res.status).toBe(202);
    const receipt = await res.json<UploadReceipt>();
    expect(receipt).toEqual({
      uploadId: expect.stringMatching(/^upl_[a-z2-7]{26}$/),
      status: "queued",
      recordType: "BloodGlucose",
      recordCount: 12,
      sha256: await sha256Hex(bytes),
      statusUrl: `/v1/uploads/${receipt.uploadId}`,
    });
    expect(res.headers.get("Location")).toBe(receipt.statusUrl);
    expect(res.headers.get("Cache-Control")).toBe("no-store");

    const day = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
    const key = `raw/${user.user.id}/BloodGlucose/${day}/${receipt.uploadId}.avro`;
    expect(await rawObjects(user.user.id)).toEqual([key]);
    const object = await env.LAKE.get(key);
    expect(new Uint8Array(await (object?.arrayBuffer() ?? new ArrayBuffer(0)))).toEqual(bytes);

    const view = await getUpload(app, user, receipt.uploadId);
    expect(view).toMatchObject({ id: receipt.uploadId, recordType: "BloodGlucose", byteSize: bytes.byteLength, recordCount: 12 });

    // Storing the file is a write of health data: it is in the user's own audit chain.
    const log = await healthStoreFor(env.HEALTH_STORE, user.user.id).accessLog({ limit: 50 });
    expect(log.items).toContainEqual(
      expect.objectContaining({
        action: "upload.create",
        resource: `upload:${receipt.uploadId}`,
        actor: user.user.id,
        result: "success",
      }),
    );
  });

  it("is documented: raw and multipart bodies, device or user credentials", () => {
    const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "Pulse", version: "test" } });
    const post = doc.paths?.["/v1/uploads"]?.post;
    expect(Object.keys(post?.requestBody && "content" in post.requestBody ? post.requestBody.content : {})).toEqual([
      "application/avro",
      "application/octet-stream",
      "multipart/form-data",
    ]);
    expect(post?.security).toEqual([{ dpop: [] }, { bearerAuth: [] }]);
    expect(Object.keys(post?.responses ?? {})).toEqual(expect.arrayContaining(["200", "202", "413", "415", "422", "429"]));
    expect(doc.paths?.["/v1/uploads/{id}"]?.get?.security).toEqual([{ dpop: [] }, { bearerAuth: [] }]);
  });

  it("takes every sample, with or without a declared length", async () => {
    const user = await createSessionUser();
    const expected = {
      ActiveCaloriesBurned: 1,
      BloodGlucose: 12,
      HeartRate: 3,
      HeartRateVariabilityRmssd: 6,
      SleepSession: 1,
      Steps: 1,
    };
    for (const [type, name] of Object.entries(SAMPLES)) {
      const bytes = sampleBytes(name);
      const receipt = await uploadOk(app, user, bytes);
      expect(receipt).toMatchObject({ recordType: type, recordCount: expected[type as keyof typeof expected] });
    }
  });

  it("reads the file field of a multipart body and keeps its file name", async () => {
    const user = await createSessionUser();
    const bytes = sampleBytes(SAMPLES.HeartRate);
    const form = new FormData();
    form.append("note", "from my phone");
    form.append("file", new File([bytes], "HeartRateRecord_1760000000000.avro", { type: "application/avro" }));
    const request = new Request("http://localhost/v1/uploads", { method: "POST", body: form });
    const res = await call(app, "/v1/uploads", {
      method: "POST",
      headers: { ...user.headers, "Content-Type": request.headers.get("Content-Type") ?? "" },
      body: await request.arrayBuffer(),
    });
    expect(res.status).toBe(202);
    const receipt = await res.json<UploadReceipt>();
    expect(receipt.sha256).toBe(await sha256Hex(bytes));
    expect((await getUpload(app, user, receipt.uploadId)).fileName).toBe("HeartRateRecord_1760000000000.avro");
  });

  it("streams a multipart body arriving in small pieces, boundary split across them", async () => {
    const user = await createSessionUser();
    const bytes = sampleBytes(SAMPLES.Steps);
    const text = new TextEncoder();
    const head = text.encode('--xyz\r\nContent-Disposition: form-data; name="file"; filename="../../steps.avro"\r\n\r\n');
    const body = new Uint8Array([...head, ...bytes, ...text.encode("\r\n--xyz--\r\n")]);
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= body.byteLength) return controller.close();
        controller.enqueue(body.slice(offset, offset + 7));
        offset += 7;
      },
    });
    const res = await postFile(app, user, stream, { contentType: "multipart/form-data; boundary=xyz" });
    expect(res.status).toBe(202);
    const receipt = await res.json<UploadReceipt>();
    expect(receipt).toMatchObject({ recordType: "Steps", recordCount: 1, sha256: await sha256Hex(bytes) });
    expect((await getUpload(app, user, receipt.uploadId)).fileName).toBe("steps.avro");
  });

  it("stores a file larger than one R2 part from a body of unknown length (multipart upload)", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(60, { padding: 100_000, prefix: crypto.randomUUID(), blockRecords: 10 });
    expect(bytes.byteLength).toBeGreaterThan(PART_BYTES);
    const stream = new Blob([bytes]).stream();
    const receipt = await uploadOk(app, user, stream);
    expect(receipt).toMatchObject({ recordType: "HeartRate", recordCount: 60, sha256: await sha256Hex(bytes) });
    const [key = ""] = await rawObjects(user.user.id);
    const stored = await env.LAKE.get(key);
    expect(stored?.size).toBe(bytes.byteLength);
    expect(await sha256Hex(new Uint8Array(await (stored?.arrayBuffer() ?? new ArrayBuffer(0))))).toBe(receipt.sha256);
  });

  it("refuses a file over 50 MiB with 413 and leaves nothing in R2", async () => {
    const user = await createSessionUser();
    const declared = await postFile(app, user, new Uint8Array(16), { headers: { "Content-Length": String(60 * 1024 * 1024) } });
    await expectProblem(declared, 413, "PAYLOAD_TOO_LARGE");

    // Chunked: a valid start, then well-framed 4 MiB blocks of filler until past the limit.
    const head = await heartRateFile(1, { prefix: crypto.randomUUID() });
    const sync = head.subarray(head.byteLength - 16);
    const frame = new Uint8Array([2, 0x80, 0x80, 0x80, 0x04]); // 1 object, 4 MiB (zigzag varints)
    const filler = new Uint8Array(4 * 1024 * 1024);
    const chunks = [head, ...Array.from({ length: 14 }, () => [frame, filler, sync]).flat()];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(next.slice());
      },
    });
    await expectProblem(await postFile(app, user, stream), 413, "PAYLOAD_TOO_LARGE");
    expect(await rawObjects(user.user.id)).toEqual([]);
    expect(await db.select().from(uploads).where(eq(uploads.userId, user.user.id))).toEqual([]);
  });

  it("refuses other media types with 415 before reading the body", async () => {
    const user = await createSessionUser();
    await expectProblem(
      await postFile(app, user, sampleBytes(SAMPLES.Steps), { contentType: "text/csv" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    await expectProblem(await postFile(app, user, "{}", { contentType: "application/json" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers 400 for a multipart body without a file field", async () => {
    const user = await createSessionUser();
    const form = new FormData();
    form.append("note", "no file here");
    const request = new Request("http://localhost/", { method: "POST", body: form });
    const res = await postFile(app, user, await request.arrayBuffer(), {
      contentType: request.headers.get("Content-Type") ?? "",
    });
    await expectProblem(res, 400, "BAD_REQUEST");
  });
});

describe("POST /v1/uploads: the same file again", () => {
  it("returns the same upload (200) and stores nothing new", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(3, { prefix: crypto.randomUUID() });
    const first = await uploadOk(app, user, bytes);
    const again = await uploadOk(app, user, bytes, 200);
    expect(again.uploadId).toBe(first.uploadId);
    expect(again.sha256).toBe(first.sha256);
    expect(await rawObjects(user.user.id)).toHaveLength(1);
    expect(await db.select().from(uploads).where(eq(uploads.userId, user.user.id))).toHaveLength(1);
  });

  it("of two identical uploads racing, exactly one is recorded and both get its id", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(5, { prefix: crypto.randomUUID() });
    const [a, b] = await Promise.all([postFile(app, user, bytes), postFile(app, user, bytes)]);
    expect([a.status, b.status].sort()).toEqual([200, 202]);
    const [ra, rb] = [await a.json<UploadReceipt>(), await b.json<UploadReceipt>()];
    expect(ra.uploadId).toBe(rb.uploadId);
    const rows = await db.select().from(uploads).where(eq(uploads.userId, user.user.id));
    expect(rows.map((row) => row.id)).toEqual([ra.uploadId]);
    expect(await rawObjects(user.user.id)).toEqual([rows[0]?.r2Key]);
  });

  it("is per user: another user's identical file is their own upload", async () => {
    const [ada, bob] = [await createSessionUser(), await createSessionUser()];
    const bytes = sampleBytes(SAMPLES.Steps);
    const a = await uploadOk(app, ada, bytes);
    const b = await uploadOk(app, bob, bytes);
    expect(b.uploadId).not.toBe(a.uploadId);
  });
});

describe("POST /v1/uploads: quota", () => {
  it("allows 10 uploads a minute per user, then 429 with Retry-After", async () => {
    const user = await createSessionUser();
    const bytes = sampleBytes(SAMPLES.HeartRate);
    for (let i = 0; i < 10; i++) {
      const res = await postFile(app, user, bytes);
      expect(res.status).toBe(i === 0 ? 202 : 200);
      expect(res.headers.get("RateLimit-Remaining")).not.toBeNull();
    }
    const refused = await postFile(app, user, bytes);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    await expectProblem(refused, 429, "RATE_LIMITED");
    // Another user's quota is untouched.
    expect((await postFile(app, await createSessionUser(), bytes)).status).toBe(202);
  });
});

describe("uploads with a device credential", () => {
  async function enrolDevice(user: SessionUser): Promise<{ key: DeviceKey; credential: string }> {
    const key = await generateDeviceKey();
    const res = await call(app, "/v1/me/devices", {
      method: "POST",
      headers: { ...user.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Pixel", publicJwk: key.publicJwk }),
    });
    expect(res.status).toBe(201);
    return { key, credential: (await res.json<{ credential: string }>()).credential };
  }

  async function asDevice(
    user: SessionUser,
    device: { key: DeviceKey; credential: string },
    method: string,
    path: string,
    body?: Uint8Array,
  ) {
    const headers = {
      ...(await dpopHeaders(device.key, device.credential, method, `http://localhost${path}`)),
      "CF-Connecting-IP": user.headers["CF-Connecting-IP"] ?? "10.0.0.1",
      ...(body ? { "Content-Type": "application/avro" } : {}),
    };
    return call(app, path, { method, headers, ...(body ? { body } : {}) });
  }

  it("uploads, reads its upload's status, but cannot list the account's uploads", async () => {
    const user = await createSessionUser();
    const device = await enrolDevice(user);
    const res = await asDevice(user, device, "POST", "/v1/uploads", sampleBytes(SAMPLES.HeartRateVariabilityRmssd));
    expect(res.status).toBe(202);
    const receipt = await res.json<UploadReceipt>();
    const [row] = await db.select().from(uploads).where(eq(uploads.id, receipt.uploadId));
    expect(row?.userId).toBe(user.user.id);
    expect(row?.deviceId).toBe(device.credential.split(".")[0]);

    const status = await asDevice(user, device, "GET", receipt.statusUrl);
    expect(status.status).toBe(200);
    expect((await status.json<UploadView>()).id).toBe(receipt.uploadId);
    await expectProblem(await asDevice(user, device, "GET", "/v1/uploads"), 403, "FORBIDDEN");
    // The user sees the device's upload in their list.
    const list = await call(app, "/v1/uploads", { headers: user.headers });
    expect((await list.json<{ items: UploadView[] }>()).items.map((item) => item.id)).toEqual([receipt.uploadId]);
  });

  it("cannot read the status of an upload the user made without it", async () => {
    const user = await createSessionUser();
    const device = await enrolDevice(user);
    const mine = await call(app, "/v1/uploads", {
      method: "POST",
      headers: { ...user.headers, "Content-Type": "application/avro" },
      body: sampleBytes(SAMPLES.Steps),
    });
    expect(mine.status).toBe(202);
    const { statusUrl } = await mine.json<UploadReceipt>();
    expect((await call(app, statusUrl, { headers: user.headers })).status).toBe(200);
    await expectProblem(await asDevice(user, device, "GET", statusUrl), 404, "NOT_FOUND");
  });
});

describe("GET /v1/uploads", () => {
  it("lists the user's own uploads, newest first, a page at a time", async () => {
    const [user, other] = [await createSessionUser(), await createSessionUser()];
    const ids: string[] = [];
    for (const name of [SAMPLES.Steps, SAMPLES.HeartRate, SAMPLES.BloodGlucose])
      ids.unshift((await uploadOk(app, user, sampleBytes(name))).uploadId);
    await uploadOk(app, other, sampleBytes(SAMPLES.Steps));

    const first = await call(app, "/v1/uploads?limit=2", { headers: user.headers });
    const page1 = await first.json<{ items: UploadView[]; nextCursor: string | null }>();
    expect(page1.items.map((item) => item.id)).toEqual(ids.slice(0, 2));
    expect(page1.nextCursor).not.toBeNull();
    const second = await call(app, `/v1/uploads?limit=2&cursor=${page1.nextCursor}`, { headers: user.headers });
    const page2 = await second.json<{ items: UploadView[]; nextCursor: string | null }>();
    expect(page2).toEqual({ items: [expect.objectContaining({ id: ids[2] })], nextCursor: null });
  });

  it("answers 400 for a cursor it did not issue and 404 for another user's upload", async () => {
    const [ada, bob] = [await createSessionUser(), await createSessionUser()];
    await expectProblem(await call(app, "/v1/uploads?cursor=bogus", { headers: ada.headers }), 400, "VALIDATION_FAILED");
    const receipt = await uploadOk(app, ada, sampleBytes(SAMPLES.Steps));
    await expectProblem(await call(app, receipt.statusUrl, { headers: bob.headers }), 404, "NOT_FOUND");
    await expectProblem(await call(app, "/v1/uploads/not-an-id", { headers: ada.headers }), 400, "VALIDATION_FAILED");
    const bobs = await call(app, "/v1/uploads", { headers: bob.headers });
    expect((await bobs.json<{ items: unknown[] }>()).items).toEqual([]);
  });
});
