/**
 * Where the account is signed in (/v1/me/sessions): each session with this one marked, revoke one,
 * sign out every other session, or everywhere. Revoking this page's own session signs it out; the
 * others find out at their next request, whose token and refresh token are refused.
 */
import { formatDateTime, h } from "../../dom.ts";
import type { ViewContext } from "../../view.ts";
import { card, change, focusHeading, type Panel, readAll, table } from "./common.ts";

interface Session {
  id: string;
  kind: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  current: boolean;
}

/** "Chrome on Linux" from a User-Agent string; the raw string is kept as the cell's title. */
export function describeAgent(userAgent: string | null): string {
  if (userAgent === null || userAgent === "") return "Unknown client";
  const browser =
    [
      [/Edg\//, "Edge"],
      [/OPR\//, "Opera"],
      [/Firefox\//, "Firefox"],
      [/Chrom(e|ium)\//, "Chrome"],
      [/Safari\//, "Safari"],
      [/^curl\//, "curl"],
      [/^node|undici/i, "Node.js"],
    ].find(([pattern]) => (pattern as RegExp).test(userAgent))?.[1] ?? "Other client";
  const system =
    [
      [/Android/, "Android"],
      [/iPhone|iPad/, "iOS"],
      [/Mac OS X|Macintosh/, "macOS"],
      [/Windows/, "Windows"],
      [/CrOS/, "ChromeOS"],
      [/Linux/, "Linux"],
    ].find(([pattern]) => (pattern as RegExp).test(userAgent))?.[1] ?? null;
  return system === null ? String(browser) : `${browser} on ${system}`;
}

export function sessionsPanel(ctx: ViewContext): Panel {
  const { element, body } = card(
    "sessions",
    "Sessions",
    "Every browser or app signed in to your account. Signing one out ends it at its next request.",
  );
  const others = h("button", { type: "button", class: "secondary" }, "Sign out all other sessions");
  const everywhere = h("button", { type: "button", class: "danger" }, "Sign out everywhere");
  element.append(h("div", { class: "actions" }, others, everywhere));
  let sessions: Session[] = [];

  const revoke = (session: Session) =>
    void change(
      ctx,
      {
        confirm: session.current
          ? "Sign out this session? You will need your passkey to sign in again."
          : `Sign out the session of ${describeAgent(session.userAgent)}, started ${formatDateTime(session.createdAt)}?`,
        busy: "Signing the session out…",
        done: session.current ? "You are signed out." : "Session signed out.",
      },
      async () => {
        await ctx.api.request("DELETE", `/v1/me/sessions/${session.id}`, { signal: ctx.signal });
        // This page's own tokens are dead now: forget them, which shows the sign-in page.
        if (session.current) ctx.api.clear();
        else {
          await refresh();
          focusHeading(element);
        }
      },
    );

  others.addEventListener("click", () => {
    let count = 0;
    void change(
      ctx,
      {
        confirm: "Sign out every other session? This one stays signed in; device credentials keep working.",
        busy: "Signing the other sessions out…",
        done: () => (count === 1 ? "1 other session signed out." : `${count} other sessions signed out.`),
      },
      async () => {
        // The API's "revoke all" includes the caller's own session, so the others go one by one.
        for (const session of sessions.filter((candidate) => !candidate.current)) {
          await ctx.api.request("DELETE", `/v1/me/sessions/${session.id}`, { signal: ctx.signal });
          count += 1;
        }
        await refresh();
      },
    );
  });

  everywhere.addEventListener("click", () => {
    void change(
      ctx,
      {
        confirm:
          "Sign out everywhere, this page included? Every session ends, and every device credential (background uploaders) is revoked too.",
        busy: "Signing out everywhere…",
        done: "Signed out everywhere.",
      },
      async () => {
        await ctx.api.request("DELETE", "/v1/me/sessions", { signal: ctx.signal });
        ctx.api.clear();
      },
    );
  });

  const refresh = async () => {
    sessions = await readAll<Session>(ctx, "/v1/me/sessions");
    others.disabled = !sessions.some((session) => !session.current);
    const rows = sessions.map((session) => {
      const button = h(
        "button",
        {
          type: "button",
          class: "danger",
          "aria-label": `Sign out ${session.current ? "this session" : "the session"} started ${formatDateTime(session.createdAt)}`,
        },
        "Sign out",
      );
      button.addEventListener("click", () => revoke(session));
      return h(
        "tr",
        { "data-session": session.id, ...(session.current ? { "aria-current": "true" } : {}) },
        h(
          "th",
          { scope: "row", title: session.userAgent ?? "" },
          describeAgent(session.userAgent),
          session.current ? h("span", { class: "tag" }, "this session") : null,
          session.kind === "recovery" ? h("span", { class: "tag" }, "recovery") : null,
        ),
        h("td", {}, formatDateTime(session.createdAt)),
        h("td", {}, formatDateTime(session.lastSeenAt)),
        h("td", { class: "row-actions" }, button),
      );
    });
    body.replaceChildren(table("Your sessions", ["Client", "Signed in", "Last active", "Actions"], rows));
  };

  return { element, refresh };
}
