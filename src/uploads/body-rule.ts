import type { BodyRule } from "../http/middleware/body";

/** DESIGN §6: files up to 50 MB (read as MiB, the larger reading) are accepted; more is a 413. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

export const UPLOAD_CONTENT_TYPES = ["application/avro", "application/octet-stream", "multipart/form-data"] as const;

/**
 * The body-limit rule for `POST /v1/uploads` (src/http/middleware/body.ts): the file's own size
 * and media types instead of the JSON defaults. Register it in `bodyLimits({ rules })` in src/app.ts.
 */
export const UPLOAD_BODY_RULE: BodyRule = {
  method: "POST",
  path: "/v1/uploads",
  // A multipart body carries a few hundred bytes of boundaries and part headers around the file.
  maxBytes: MAX_UPLOAD_BYTES + 64 * 1024,
  contentTypes: [...UPLOAD_CONTENT_TYPES],
};
