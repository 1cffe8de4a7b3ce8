/**
 * Questions the analyst does not answer, each with a plain, specific decline. Checked before any
 * figure is computed: an answer to a different question (an average for "was it ever below 70?")
 * is worse than "I can't answer that". `text` is the normalized question (see question.ts).
 */
interface Unsupported {
  pattern: RegExp;
  reply: string;
  /** Declined even when the question names no metric (otherwise such a question gets the capabilities). */
  always?: true;
  /** Not declined when the question parsed as a comparison the analyst answers. */
  comparison?: true;
}

const EXAMPLE = `e.g. "my average steps in the last 7 days"`;

const UNSUPPORTED: readonly Unsupported[] = [
  {
    pattern:
      /\b(?:do i have|diabet\w*|disease|diagnos\w*|prediabet\w*|am i (?:sick|ill|healthy|ok|okay)|is (?:it|this|that) (?:normal|bad|good|healthy|dangerous|ok|okay)|should i|normal|abnormal|healthy|unhealthy|dangerous|worr\w*|concern\w*|elevated)\b/,
    reply:
      "I can't diagnose a condition or judge whether your values are healthy; a clinician can. " +
      `I can give you the figures themselves, ${EXAMPLE}.`,
    always: true,
  },
  {
    pattern:
      /\b(?:vs|versus|compare|compared|comparing|comparison|than (?:last|the last|previous|the previous|yesterday|before|usual))\b/,
    reply:
      "I can compare only this week with last week, or this month with last month, for one or more measures; " +
      `for anything else ask about one period, ${EXAMPLE}.`,
    comparison: true,
  },
  {
    // Counts are of readings strictly below or above; "at least 70" or "never below 70" answered
    // with that count would answer another question (or say "No" to a "never" that held).
    pattern:
      /\b(?:at most|at least|or (?:more|less|fewer|above|below|over|under|higher|lower)|never|not (?:below|under|above|over|more|less|fewer|lower|higher))\b/,
    reply:
      'I can count readings strictly below or above a value you give, e.g. "was my blood glucose ever below 70 in the last 30 days"; ' +
      'not "at least", "at most" or "never" yet.',
  },
  {
    // Without a value to cross ("ever below 70"), a count has nothing to count.
    pattern:
      /^(?!.*\b(?:below|under|less than|lower than|beneath|fewer than|above|over|more than|higher than|greater than|exceed\w*) \d).*\b(?:ever|any ?time|at any point|how many times|how often|times|often)\b/,
    reply: 'Tell me the value to count against, e.g. "how many times was my blood glucose below 70 in the last 30 days".',
  },
  {
    // "at 3pm", "the night before last": a time of day or a night other than last night.
    pattern:
      /\b(?:tonight|this morning|this evening|this afternoon|overnight|noon|midnight|o clock|(?:day|night) before last)\b|\b\d{1,2} ?(?:am|pm)\b/,
    reply: `I can't answer about a time or part of a day, or a night other than last night, yet; ask about today, yesterday or the last N days, ${EXAMPLE}.`,
  },
  {
    // One named day ("on Monday") is a period the analyst answers; every Monday or weekends are not.
    pattern:
      /\b(?:mon|tues|wednes|thurs|fri|satur|sun)days\b|\bevery (?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\bweekends?\b|\bweekdays?\b/,
    reply: `I can answer about one day ("on Monday") but not every such day or weekends yet; ask about one day or the last N days, ${EXAMPLE}.`,
  },
  {
    pattern: /\b(?:mmol|lbs?|pounds?|stones?|fahrenheit|ounces?|oz|miles?|km|kilometers?|kilometres?)\b/,
    reply: `I can't convert units yet; give values in the units your data is stored in (mg/dL, kg, °C, m), ${EXAMPLE}.`,
  },
  {
    pattern:
      /\b(?:january|february|march|april|june|july|august|september|october|november|december|ago|since|tomorrow|next)\b|\b20\d\d\b|\b(?:last|past|previous) \d+ (?:hours?|minutes?)\b|\b(?:last|past|previous) 0+ (?:days?|weeks?|months?|years?)\b/,
    reply: `I can only answer for today, yesterday or the last N days, weeks or months, ${EXAMPLE}.`,
  },
  {
    pattern: /\b(?:why|predict\w*|forecast|will|cause\w*|caus\w*|affect\w*|correlat\w*|because|recommend\w*|improve)\b/,
    reply: `I can't explain causes, predict or advise; I can give you the figures, ${EXAMPLE}.`,
  },
];

/** A summary that names no day or week (or a month): the summaries the analyst gives. */
export const SUMMARY_PERIODS =
  'I can summarize a day or a week, from your clinical narrative: ask e.g. "summarize my week", "how was my day", ' +
  '"summarize yesterday" or "summarize last week".';

/** The diagnosis decline alone: checked before a summary is given too. */
export function declineDiagnosis(text: string): string | null {
  const entry = UNSUPPORTED[0];
  return entry?.pattern.test(text) ? entry.reply : null;
}

/**
 * The decline for a question the analyst does not handle, or `null` when it does. `namesData` is
 * whether the question names a metric or sleep; one that names neither gets only the declines
 * marked `always`, and otherwise the description of what the analyst can answer.
 */
export function declineFor(text: string, namesData: boolean, comparison = false): string | null {
  return (
    UNSUPPORTED.find(
      (entry) => (namesData || entry.always === true) && !(comparison && entry.comparison === true) && entry.pattern.test(text),
    )?.reply ?? null
  );
}
