import { z } from "@hono/zod-openapi";
import { instantSchema } from "../observations/dates";

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
  })
  .refine((body) => body.since === undefined || body.until === undefined || Date.parse(body.since) < Date.parse(body.until), {
    path: ["until"],
    message: "until must be after since",
  })
  .openapi("AiQuery");
export type QueryBody = z.output<typeof QueryBodySchema>;

const FigureSchema = z.object({ label: z.string(), value: z.number(), unit: z.string() });

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
    }),
    hpke: z.object({ kem: z.string(), kdf: z.string(), aead: z.string() }),
  })
  .openapi("AiAttestation");
