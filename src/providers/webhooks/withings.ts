import { decodeUtf8, dedupKey, isoFromSeconds } from "./common.ts";
import type { RawWebhookRequest, WebhookOutcome } from "./types.ts";
import { refuse } from "./types.ts";

/**
 * Withings Notify (https://developer.withings.com/developer-guide/v3/integration-guide/bulkship-sdk/data-api/notifications/notification-content
 * and …/notification-subscribe, checked 2026-12): notifications are POSTed form-encoded (`userid`,
 * `appli`, `startdate`, `enddate`; `date` — YYYY-MM-DD or Unix seconds — for event-like categories;
 * `action` = delete | unlink | update for profile changes), with no signature — hints only,
 * re-fetched with the user's token. Subscribing makes Withings send a HEAD to the callback, which
 * must answer 2xx.
 * Withings retries a failed notification over about five hours; `dedupKey` absorbs the repeats.
 */
const DIGITS = /^\d{1,20}$/;
/** Unix seconds: 12 digits reach the year 33658, more is not a time. */
const SECONDS = /^\d{1,12}$/;
const DAY_OR_SECONDS = /^(\d{4}-\d{2}-\d{2}|\d{1,12})$/;

export async function verifyWithings(request: RawWebhookRequest): Promise<WebhookOutcome> {
  if (request.method === "HEAD")
    return { kind: "handshake", provider: "withings", response: { status: 200, body: null, contentType: null } };
  if (request.method !== "POST")
    return refuse("withings", "method_not_allowed", "Withings notifications are POST (and HEAD to verify).");

  const text = decodeUtf8(request.body);
  if (text === undefined) return refuse("withings", "malformed", "The body is not UTF-8 form data.");
  const form = new URLSearchParams(text);
  const userid = form.get("userid");
  const appli = form.get("appli");
  const startdate = form.get("startdate");
  const enddate = form.get("enddate");
  const date = form.get("date");
  if (!userid || !DIGITS.test(userid) || !appli || !DIGITS.test(appli)) {
    return refuse("withings", "malformed", "userid and appli must be present and numeric.");
  }
  if (
    (startdate !== null && !SECONDS.test(startdate)) ||
    (enddate !== null && !SECONDS.test(enddate)) ||
    (date !== null && !DAY_OR_SECONDS.test(date))
  ) {
    return refuse("withings", "malformed", "startdate and enddate must be Unix seconds; date a YYYY-MM-DD day or Unix seconds.");
  }
  // `date` is either a calendar day or, for event-like categories, the instant of the event.
  const eventAt = date !== null && SECONDS.test(date) ? isoFromSeconds(Number(date)) : undefined;
  const day = date !== null && !SECONDS.test(date) ? date : undefined;
  const start = isoFromSeconds(startdate === null ? undefined : Number(startdate)) ?? eventAt;
  const end = isoFromSeconds(enddate === null ? undefined : Number(enddate)) ?? eventAt;
  const action = form.get("action");
  return {
    kind: "delivery",
    provider: "withings",
    authenticity: "unsigned-hint",
    eventType: action ? `appli:${appli}:${action}` : `appli:${appli}`,
    dedupKey: await dedupKey("withings", [userid, appli, startdate, enddate, date, action]),
    hints: [
      {
        providerUserId: userid,
        // Withings' own category code (1 weight and body composition, 4 blood pressure, 16 activity, 44 sleep, …).
        dataType: appli,
        operation: action === "unlink" || action === "delete" ? "deauthorize" : action === "update" ? "other" : "upsert",
        ...(start === undefined ? {} : { start }),
        ...(end === undefined ? {} : { end }),
        ...(day === undefined ? {} : { date: day }),
      },
    ],
  };
}
