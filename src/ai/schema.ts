import { z } from "@hono/zod-openapi";
import { MODEL_KINDS } from "../../enclave-bridge/src/identity.ts";
import { instantSchema } from "../observations/dates";
import { parseTimeZone } from "../observations/time-zone";

/** The confidential-AI HTTP shapes (DESIGN §9, docs/confidential-ai.md). */
export const MAX_QUESTION_CHARS = 1_000;

export const QueryBodySchema = z
  .strictObject({
    question: z
      .string()
      .trim()
      .min(1, "question must not be empty")
      .max(MAX_QUESTION_CHARS, `question must be at most ${MAX_QUESTION_CHARS} characters`)
      .openapi({ example: "What was my average resting heart rate last week?" }),
    since: instantSchema.optional().openapi({ description: "Start of the data the enclave may see (inclusive)." }),
    until: instantSchema.optional().openapi({ description: "End of the data the enclave may see (exclusive); default now." }),
    tz: z
      .string()
      .refine((value) => parseTimeZone(value) !== null, "not an IANA time zone, a ±HH:MM offset or UTC")
      .optional()
      .openapi({
        description:
          'The time zone "today", "last night", "on Monday" and "my week" are read in (IANA name, ±HH:MM or UTC); default UTC.',
        example: "Europe/Paris",
      }),
  })
  .refine((body) => body.since === undefined || body.until === undefined || Date.parse(body.since) < Date.parse(body.until), {
    path: ["until"],
    message: "until must be after since",
  })
  .openapi("AiQuery");
export type QueryBody = z.output<typeof QueryBodySchema>;

export const ModelIdentitySchema = z
  .object({
    id: z.string().openapi({ description: "The analyst's version, the weights' SHA-256 or the remote model's name." }),
    kind: z.enum(MODEL_KINDS),
    confidential: z
      .boolean()
      .openapi({ description: "False when the model runs outside attested hardware, where its operator sees the plaintext." }),
  })
  .openapi("AiModel", { description: "The model the attested enclave names in its attestation document's user_data." });

const FigureSchema = z.object({ label: z.string(), value: z.number(), unit: z.string() });

const hex = (bytes: number, description: string) =>
  z
    .string()
    .regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`))
    .openapi({ description });

export const ReceiptSchema = z
  .object({
    payload: z
      .object({
        v: z.literal(2),
        questionSha256: hex(32, "SHA-256 of the question's UTF-8 (after trimming), hex."),
        dataSha256: hex(32, "SHA-256 of the canonical JSON of the data the enclave received, hex."),
        answerSha256: hex(32, "SHA-256 of the canonical JSON of {answer, usedMetrics, figures}, hex."),
        model: ModelIdentitySchema,
        pcrs: z.object({ 0: hex(48, "PCR0"), 1: hex(48, "PCR1"), 2: hex(48, "PCR2") }),
        attestationSha256: hex(32, "SHA-256 of `attestationDocument`'s bytes, hex."),
        asOf: z.string().openapi({
          description:
            'The instant the question\'s relative words ("last week", "yesterday") were read from (ISO 8601 UTC); within 5 minutes of `time`.',
        }),
        timeZone: z
          .string()
          .openapi({ description: "The time zone calendar words were read in (the request's `tz`, canonical; UTC by default)." }),
        time: z.string().openapi({ description: "The enclave's clock when it signed (ISO 8601 UTC)." }),
      })
      .openapi({ description: "The signed claims; the signed bytes are their canonical JSON (keys sorted, no spaces), UTF-8." }),
    signature: z.string().openapi({ description: "ECDSA P-256/SHA-256 over the signed bytes, r‖s (64 bytes), base64url." }),
    attestationDocument: z.string().openapi({
      description: "The attestation document (COSE_Sign1, base64) whose user_data names the receipt key; the Worker verified it.",
    }),
    sha256: hex(32, "SHA-256 of the signed bytes followed by the 64 signature bytes: what the access log records."),
  })
  .openapi("AiReceipt", {
    description:
      "The enclave's signed receipt for this answer, verified by the Worker; check it offline with `npm run verify-receipt` or the SDK's verifyAnswerReceipt.",
  });

export const QueryAnswerSchema = z
  .object({
    answer: z.string(),
    usedMetrics: z.array(z.string()).openapi({ description: "Metric codes (and `sleep`) the answer was computed from." }),
    figures: z.array(FigureSchema).openapi({ description: "The numbers the answer states, with units." }),
    period: z
      .object({ since: z.string(), until: z.string() })
      .openapi({ description: "The window of data sent to the enclave." }),
    attestation: z.object({
      pcr0: z.string().openapi({ description: "The enclave image measurement that was verified (hex)." }),
      moduleId: z.string(),
      verifiedAt: z.string(),
    }),
    model: ModelIdentitySchema,
    notice: z.string().optional().openapi({
      description: "Present when the model is not confidential: the question and data were seen outside attested hardware.",
    }),
    receipt: ReceiptSchema,
  })
  .openapi("AiAnswer");

export const AttestationReportSchema = z
  .object({
    document: z.string().openapi({ description: "The attestation document (COSE_Sign1), base64." }),
    verifiedAt: z.string(),
    verified: z.object({
      moduleId: z.string(),
      timestamp: z.string(),
      digest: z.string(),
      pcrs: z.object({ 0: z.string(), 1: z.string(), 2: z.string() }),
      publicKey: z.string().openapi({ description: "The enclave's HPKE public key, base64." }),
      nonce: z.string().openapi({ description: "The nonce this request sent and the document echoes, base64." }),
      certificateChain: z.array(z.string()).openapi({ description: "Subjects, leaf first, ending at the pinned root." }),
      rootSha256: z.string(),
      validUntil: z.string(),
      debugMode: z.literal(false),
      model: ModelIdentitySchema,
      receiptKey: z
        .string()
        .openapi({ description: "The enclave's receipt-signing key (P-256 point, base64url), from user_data." }),
    }),
    hpke: z.object({ kem: z.string(), kdf: z.string(), aead: z.string() }),
  })
  .openapi("AiAttestation");
