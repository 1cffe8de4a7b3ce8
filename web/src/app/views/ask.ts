/**
 * Questions for the analyst in the attested enclave (POST /v1/ai/query). The answer is shown with
 * what vouches for it: the enclave image measurement the Worker verified and when, and the model.
 */
import { append, field, formatDateTime, h } from "../dom.ts";
import type { View } from "../view.ts";

interface Answer {
  answer: string;
  usedMetrics: string[];
  attestation: { pcr0: string; moduleId: string; verifiedAt: string };
  model?: { id: string; kind: string; confidential: boolean };
  notice?: string;
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
    const answer = h("section", { class: "answer", "aria-live": "polite", hidden: true });
    const form = h(
      "form",
      { class: "card" },
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
        const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
        const result = await ctx.api.request<Answer>("POST", "/v1/ai/query", {
          body: { question: question.value.trim(), tz },
          signal: ctx.signal,
        });
        answer.replaceChildren();
        append(answer, [
          h("h2", {}, "Answer"),
          h("p", { class: "answer-text" }, result.answer),
          result.notice === undefined ? null : h("p", { class: "problem" }, result.notice),
          h(
            "dl",
            { class: "facts" },
            h("dt", {}, "Enclave image (PCR0)"),
            h("dd", { class: "mono" }, result.attestation.pcr0),
            h("dt", {}, "Attested"),
            h("dd", {}, formatDateTime(result.attestation.verifiedAt)),
            result.model === undefined ? null : [h("dt", {}, "Model"), h("dd", {}, result.model.id)],
            h("dt", {}, "Data used"),
            h("dd", {}, result.usedMetrics.length > 0 ? result.usedMetrics.join(", ").replace(/_/g, " ") : "none"),
          ),
        ]);
        answer.hidden = false;
      });
    });
    return h("section", {}, h("h1", {}, "Ask about your data"), form, answer);
  },
};
export default ask;
