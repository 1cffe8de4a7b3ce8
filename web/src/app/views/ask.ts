/**
 * Questions for the analyst in the attested enclave (POST /v1/ai/query). The answer is shown with
 * what vouches for it: the enclave image measurement the Worker verified and when, the enclave's
 * module, the model (and a warning when it is not confidential), and the time zone the question was
 * read in. "Check the enclave" fetches a fresh attestation (GET /v1/ai/attestation) with all three
 * measurements, so a person can compare PCR0 with the answer's and with a published build.
 */
import { append, field, formatDateTime, h } from "../dom.ts";
import type { View, ViewContext } from "../view.ts";

interface Model {
  id: string;
  kind: string;
  confidential: boolean;
}

interface Answer {
  answer: string;
  usedMetrics: string[];
  period?: { since: string; until: string };
  attestation: { pcr0: string; moduleId: string; verifiedAt: string };
  model?: Model;
  notice?: string;
}

interface AttestationReport {
  verifiedAt: string;
  verified: {
    moduleId: string;
    timestamp: string;
    pcrs: { 0: string; 1: string; 2: string };
    certificateChain: string[];
    rootSha256: string;
    validUntil: string;
    model: Model;
  };
  hpke: { kem: string; kdf: string; aead: string };
}

const KIND_WORDS: Record<string, string> = {
  analyst: "Pulse's analyst, inside the enclave",
  llama: "a local language model, inside the enclave",
  "remote-attested": "a remote model in attested hardware",
  remote: "a remote model outside attested hardware",
};

function modelText(model: Model): string {
  const kind = KIND_WORDS[model.kind] ?? model.kind;
  return `${model.id} — ${kind}; ${model.confidential ? "confidential" : "not confidential"}`;
}

function fact(term: string, value: string | Node, mono = false): HTMLElement[] {
  return [h("dt", {}, term), h("dd", mono ? { class: "mono" } : {}, value)];
}

const ask: View = {
  title: "Ask",
  render(ctx) {
    const question = h("textarea", {
      name: "question",
      rows: "2",
      maxlength: "1000",
      required: true,
      placeholder: "What was my average resting heart rate last week?",
    });
    const answer = h("section", { class: "answer", "aria-labelledby": "answer-title", "aria-live": "polite", hidden: true });
    const verify = h("section", { class: "answer verify", "aria-labelledby": "verify-title", hidden: true });
    let lastPcr0: string | null = null;
    const form = h(
      "form",
      { class: "card", "aria-label": "Ask about your data" },
      field(
        "Question",
        question,
        "Answered inside an attested enclave: Pulse checks the enclave first, then seals your question and only the data it needs to it.",
      ),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Ask")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      answer.hidden = true;
      void ctx.run("Asking the enclave…", async () => {
        // "today" and "last week" mean the person's own days, not UTC's.
        const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
        const result = await ctx.api.request<Answer>("POST", "/v1/ai/query", {
          body: { question: question.value.trim(), tz },
          signal: ctx.signal,
        });
        lastPcr0 = result.attestation.pcr0;
        answer.replaceChildren();
        append(answer, [
          h("h2", { id: "answer-title" }, "Answer"),
          h("p", { class: "answer-text" }, result.answer),
          result.notice === undefined ? null : h("p", { class: "problem", "data-notice": "" }, result.notice),
          h(
            "dl",
            { class: "facts attestation-facts", "aria-label": "What vouches for this answer" },
            fact("Enclave image (PCR0)", result.attestation.pcr0, true),
            fact("Attested", formatDateTime(result.attestation.verifiedAt)),
            fact("Enclave module", result.attestation.moduleId, true),
            result.model === undefined ? null : fact("Model", modelText(result.model)),
            fact("Time zone", tz),
            result.period === undefined
              ? null
              : fact("Data period", `${formatDateTime(result.period.since)} – ${formatDateTime(result.period.until)}`),
            fact("Data used", result.usedMetrics.length > 0 ? result.usedMetrics.join(", ").replace(/_/g, " ") : "none"),
          ),
        ]);
        answer.hidden = false;
      });
    });

    const check = h("button", { type: "button", class: "secondary" }, "Check the enclave");
    check.addEventListener("click", () => void checkEnclave(ctx, verify, () => lastPcr0));

    return h("section", {}, h("h1", {}, "Ask about your data"), form, answer, h("div", { class: "actions" }, check), verify);
  },
};

/** A fresh attestation, as the Worker verified it: the three measurements, the chain, the model. */
function checkEnclave(ctx: ViewContext, into: HTMLElement, answered: () => string | null): Promise<boolean> {
  return ctx.run("Checking the enclave…", async () => {
    const report = await ctx.api.request<AttestationReport>("GET", "/v1/ai/attestation", { signal: ctx.signal });
    const { verified } = report;
    const pcr0 = answered();
    into.replaceChildren();
    append(into, [
      h("h2", { id: "verify-title" }, "The enclave, checked now"),
      h(
        "p",
        {},
        "Pulse asked the enclave for a new attestation document and verified its signature chain up to the pinned root. " +
          "Compare these measurements with those of the published enclave image.",
      ),
      h(
        "dl",
        { class: "facts" },
        fact("PCR0 (image)", verified.pcrs[0], true),
        fact("PCR1 (kernel)", verified.pcrs[1], true),
        fact("PCR2 (application)", verified.pcrs[2], true),
        pcr0 === null ? null : fact("Same image as the answer", pcr0 === verified.pcrs[0] ? "Yes" : "No: the enclave changed"),
        fact("Verified", formatDateTime(report.verifiedAt)),
        fact("Document valid until", formatDateTime(verified.validUntil)),
        fact("Enclave module", verified.moduleId, true),
        fact("Model", modelText(verified.model)),
        fact("Certificate chain", verified.certificateChain.join(", issued by ")),
        fact("Root certificate SHA-256", verified.rootSha256, true),
        fact("Encryption (HPKE)", `${report.hpke.kem}, ${report.hpke.kdf}, ${report.hpke.aead}`),
      ),
    ]);
    into.hidden = false;
  });
}

export default ask;
