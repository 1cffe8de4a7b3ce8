import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { analyze, metricsNeeded, periodOf, summaryTarget } from "../src/analyst/index.ts";
import { CASES, inputFor, judge, NOW } from "./question-set.ts";

/**
 * The question set (question-set.ts): each phrasing answered with its independently computed
 * figures, answered "no data" where there is none, or declined — none answered wrongly, and at
 * least 90 % of the in-scope ones answered. The bench (bench/analyst.mjs) runs the same set.
 */
describe("analyst question set", () => {
  const outcomes = { answered: 0, declined: 0, wrong: 0 };
  after(() => {
    const inScope = CASES.filter((entry) => !("decline" in entry)).length;
    const share = (n: number, of: number) => `${((n / of) * 100).toFixed(0)}%`;
    console.log(
      `analyst question set: ${CASES.length} questions; in scope ${inScope}, answered correctly ${outcomes.answered} ` +
        `(${share(outcomes.answered, inScope)}); out of scope ${CASES.length - inScope}, correctly declined ` +
        `${outcomes.declined} (${share(outcomes.declined, CASES.length - inScope)}); wrong ${outcomes.wrong}`,
    );
  });

  it("has at least 75 phrasings, at least 90 % of them in scope answered", () => {
    assert.ok(CASES.length >= 75, `${CASES.length} phrasings`);
    const inScope = CASES.filter((entry) => !("decline" in entry));
    const answered = inScope.filter((entry) => judge(entry, analyze(inputFor(entry))).outcome === "answered");
    assert.ok(answered.length >= 0.9 * inScope.length, `${answered.length} of ${inScope.length}`);
  });

  for (const entry of CASES) {
    it(`${entry.question}${entry.tz === undefined ? "" : ` (${entry.tz})`}`, () => {
      const verdict = judge(entry, analyze(inputFor(entry)));
      outcomes[verdict.outcome]++;
      assert.notEqual(verdict.outcome, "wrong", verdict.reason);
    });
  }
});

describe("the data the Worker selects for these questions", () => {
  const iso = (ms: number) => new Date(ms).toISOString();
  const NOW_MS = Date.parse(NOW);
  const DAY = 86_400_000;

  it("selects today's sleep for last night, the asked window for a count, both weeks for a comparison", () => {
    assert.deepEqual(metricsNeeded("How did I sleep last night?"), ["sleep"]);
    assert.deepEqual(periodOf("How did I sleep last night?", NOW), { since: "2024-05-15T00:00:00.000Z", until: NOW });
    assert.deepEqual(metricsNeeded("Was my glucose ever below 70 this month?"), ["blood_glucose"]);
    assert.deepEqual(periodOf("Was my glucose ever below 70 this month?", NOW), { since: iso(NOW_MS - 30 * DAY), until: NOW });
    assert.deepEqual(periodOf("Compare my steps this week with last week", NOW), { since: iso(NOW_MS - 14 * DAY), until: NOW });
  });

  it("selects local days in the asker's zone, across midnight and DST", () => {
    // 08:00 in New York (UTC-4 in May): yesterday is 14 May there.
    assert.deepEqual(periodOf("glucose yesterday", NOW, "America/New_York"), {
      since: "2024-05-14T04:00:00.000Z",
      until: "2024-05-15T04:00:00.000Z",
    });
    // 02:00 on Thursday 16 May at +14:00: Monday is 13 May there.
    assert.deepEqual(periodOf("steps on Monday", NOW, "+14:00"), {
      since: "2024-05-12T10:00:00.000Z",
      until: "2024-05-13T10:00:00.000Z",
    });
    assert.deepEqual(periodOf("glucose today", NOW, "+05:30"), { since: "2024-05-14T18:30:00.000Z", until: NOW });
    // Sunday 31 March 2024 in Paris had 23 hours (clocks went forward at 02:00).
    assert.deepEqual(periodOf("steps on Sunday", "2024-04-02T10:00:00.000Z", "Europe/Paris"), {
      since: "2024-03-30T23:00:00.000Z",
      until: "2024-03-31T22:00:00.000Z",
    });
    // Santiago skipped midnight on 8 September 2024: that day began at 01:00 local (04:00 UTC).
    assert.deepEqual(periodOf("steps yesterday", "2024-09-09T15:00:00.000Z", "America/Santiago"), {
      since: "2024-09-08T04:00:00.000Z",
      until: "2024-09-09T03:00:00.000Z",
    });
  });

  it("selects the narrative's local day or ISO week for a summary", () => {
    assert.deepEqual(summaryTarget("Summarize my week", NOW, "Europe/Paris"), {
      period: "week",
      date: "2024-05-13",
      label: "your week of 13 May – 19 May (so far)",
      since: "2024-05-12T22:00:00.000Z",
      until: "2024-05-19T22:00:00.000Z",
    });
    assert.deepEqual(periodOf("summarize last week", NOW, "Europe/Paris"), {
      since: "2024-05-05T22:00:00.000Z",
      until: "2024-05-12T22:00:00.000Z",
    });
    assert.equal(summaryTarget("how was my day", NOW, "-10:00")?.date, "2024-05-15");
    assert.equal(summaryTarget("Summarize my month", NOW), null);
    assert.equal(summaryTarget("What was my average heart rate last week?", NOW), null);
    assert.deepEqual(metricsNeeded("Summarize my week"), []);
  });
});
