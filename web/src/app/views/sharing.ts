/**
 * Sharing (DESIGN §8): a patient invites a clinician or researcher with a one-time code naming the
 * categories, the period of data and when the grant ends; lists and cancels invitations; lists and
 * revokes grants. A clinician or researcher redeems codes, sees the grants they hold and reads a
 * patient's latest values with a stated reason (recorded in the patient's access log).
 *
 * Creating an invitation needs the current terms and privacy notice accepted: the page asks for
 * that first rather than failing the form.
 */
import { field, formatDateTime, h, uid } from "../dom.ts";
import type { Me, View, ViewContext } from "../view.ts";

const CATEGORIES = ["vitals", "activity", "body", "sleep", "nutrition", "glucose", "reproductive"] as const;
const GRANTEE_ROLES = ["clinician", "researcher"] as const;
const PURPOSES = ["treatment", "care-coordination", "research", "emergency"] as const;
const DAY_MS = 86_400_000;

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface Invitation {
  id: string;
  role: string;
  categories: string[];
  dataSince: string | null;
  dataUntil: string | null;
  expiresAt: string;
  grantExpiresAt: string;
  note: string | null;
  createdAt: string;
  status: "pending" | "redeemed" | "expired" | "cancelled";
}

interface CreatedInvitation extends Omit<Invitation, "status"> {
  code: string;
}

interface GrantFields {
  id: string;
  categories: string[];
  dataSince: string | null;
  dataUntil: string | null;
  expiresAt: string;
  createdAt: string;
  status: "active" | "expired" | "revoked";
  note: string | null;
}

interface PatientGrant extends GrantFields {
  grantee: { id: string; displayName: string; role: string };
  revokedAt: string | null;
  lastAccessedAt: string | null;
}

interface GranteeGrant extends GrantFields {
  patient: { id: string; displayName: string };
  role: string;
}

interface ConsentStatus {
  current: { terms: { version: string; url: string }; privacy: { version: string; url: string } };
  accepted: boolean;
}

interface Observation {
  metric: string;
  start: string;
  value: number;
  unit: string;
}

/** `YYYY-MM-DD` of a local date, for date inputs. */
function dateValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The local midnight starting `value` (a date input's value), as an instant. */
function startOfDay(value: string): Date {
  const [year = 0, month = 1, day = 1] = value.split("-").map(Number);
  return new Date(year, month - 1, day);
}

function periodText(since: string | null, until: string | null): string {
  const day = (iso: string) => new Date(iso).toLocaleDateString(undefined, { dateStyle: "medium" });
  if (since === null && until === null) return "All of it";
  if (since === null) return `Before ${day(until ?? "")}`;
  if (until === null) return `From ${day(since)}`;
  return `${day(since)} – ${day(until)}`;
}

function table(caption: string, headers: string[], rows: HTMLTableRowElement[]): HTMLElement {
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...headers.map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, ...rows),
    ),
  );
}

/**
 * A button that asks once more before doing something that cannot be undone: the first press shows
 * the question with a confirm and a cancel button next to it.
 */
function confirmButton(label: string, question: string, confirmLabel: string, action: () => Promise<unknown>): HTMLElement {
  const wrapper = h("div", { class: "confirm-inline" });
  const first = h("button", { type: "button", class: "secondary" }, label);
  const yes = h("button", { type: "button", class: "danger" }, confirmLabel);
  const no = h("button", { type: "button", class: "secondary" }, "Keep");
  const ask = h("span", { class: "confirm-question", hidden: true }, h("span", {}, question), yes, no);
  first.addEventListener("click", () => {
    first.hidden = true;
    ask.hidden = false;
    yes.focus();
  });
  no.addEventListener("click", () => {
    ask.hidden = true;
    first.hidden = false;
    first.focus();
  });
  yes.addEventListener("click", () => void action());
  wrapper.append(first, ask);
  return wrapper;
}

/** Paged lists: the first page, then "Show more" appending the next. */
async function pagedRows<T>(
  ctx: ViewContext,
  path: string,
  row: (item: T) => HTMLTableRowElement,
  tbody: HTMLElement,
  more: HTMLButtonElement,
  cursor: string | null = null,
): Promise<number> {
  const separator = path.includes("?") ? "&" : "?";
  const url = cursor === null ? path : `${path}${separator}cursor=${encodeURIComponent(cursor)}`;
  const page = await ctx.api.request<Page<T>>("GET", url, { signal: ctx.signal });
  tbody.append(...page.items.map(row));
  more.hidden = page.nextCursor === null;
  more.onclick =
    page.nextCursor === null
      ? null
      : () => void ctx.run("Reading more…", async () => void (await pagedRows(ctx, path, row, tbody, more, page.nextCursor)));
  return page.items.length;
}

function pagedTable<T>(
  ctx: ViewContext,
  caption: string,
  headers: string[],
  path: string,
  row: (item: T) => HTMLTableRowElement,
  empty: string,
): { element: HTMLElement; load: () => Promise<void> } {
  const element = h("div");
  const load = async () => {
    const tbody = h("tbody");
    const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more");
    const count = await pagedRows(ctx, path, row, tbody, more);
    if (count === 0) {
      element.replaceChildren(h("p", {}, empty));
      return;
    }
    element.replaceChildren(
      h(
        "div",
        { class: "table-scroll" },
        h(
          "table",
          {},
          h("caption", {}, caption),
          h("thead", {}, h("tr", {}, ...headers.map((name) => h("th", { scope: "col" }, name)))),
          tbody,
        ),
      ),
      h("div", { class: "actions" }, more),
    );
  };
  return { element, load };
}

const sharing: View = {
  title: "Sharing",
  async render(ctx) {
    // The role may have changed since sign-in (an administrator makes an account a clinician).
    const me = await ctx.api.request<Me>("GET", "/v1/me", { signal: ctx.signal });
    const notice = h("p", { class: "notice", role: "status" });
    const say = (text: string) => {
      notice.textContent = text;
    };
    const section = h("section", {}, h("h1", {}, "Sharing"), notice);

    if ((GRANTEE_ROLES as readonly string[]).includes(me.role)) {
      section.append(await sharedWithYou(ctx, me, say));
    }
    section.append(await yourSharing(ctx, say));
    return section;
  },
};
export default sharing;

/** The patient's side: consent, the invitation form, invitations and grants. */
async function yourSharing(ctx: ViewContext, say: (text: string) => void): Promise<HTMLElement> {
  const part = h("div", { class: "sharing-mine" });
  const consent = await ctx.api.request<ConsentStatus>("GET", "/v1/me/consents", { signal: ctx.signal });

  const invitations = pagedTable<Invitation>(
    ctx,
    "Your invitations, newest first",
    ["Created", "For a", "Categories", "Code valid until", "Status", "Action"],
    "/v1/me/grants/invitations",
    (invitation) =>
      h(
        "tr",
        {},
        h("td", {}, formatDateTime(invitation.createdAt)),
        h("td", {}, invitation.role),
        h("td", {}, invitation.categories.join(", ")),
        h("td", {}, formatDateTime(invitation.expiresAt)),
        h("td", {}, invitation.status),
        h(
          "td",
          {},
          invitation.status !== "pending"
            ? ""
            : confirmButton("Cancel…", "Cancel this invitation? Its code stops working.", "Cancel invitation", () =>
                ctx.run("Cancelling the invitation…", async () => {
                  await ctx.api.request("DELETE", `/v1/me/grants/invitations/${invitation.id}`, { signal: ctx.signal });
                  await invitations.load();
                  say("The invitation is cancelled; its code no longer works.");
                }),
              ),
        ),
      ),
    "You have not invited anyone.",
  );

  const grants = pagedTable<PatientGrant>(
    ctx,
    "People who can read your data, newest first",
    ["Who", "Categories", "Period of data", "Until", "Last read", "Status", "Action"],
    "/v1/me/grants",
    (grant) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, `${grant.grantee.displayName} (${grant.grantee.role})`),
        h("td", {}, grant.categories.join(", ")),
        h("td", {}, periodText(grant.dataSince, grant.dataUntil)),
        h("td", {}, formatDateTime(grant.expiresAt)),
        h("td", {}, grant.lastAccessedAt === null ? "Never" : formatDateTime(grant.lastAccessedAt)),
        h(
          "td",
          {},
          grant.status === "revoked" && grant.revokedAt !== null ? `revoked ${formatDateTime(grant.revokedAt)}` : grant.status,
        ),
        h(
          "td",
          {},
          grant.status !== "active"
            ? ""
            : confirmButton(
                "Revoke…",
                `Stop ${grant.grantee.displayName}'s access now?`,
                `Revoke ${grant.grantee.displayName}'s access`,
                () =>
                  ctx.run("Revoking…", async () => {
                    await ctx.api.request("DELETE", `/v1/me/grants/${grant.id}`, { signal: ctx.signal });
                    await grants.load();
                    say(`${grant.grantee.displayName} can no longer read your data.`);
                  }),
              ),
        ),
      ),
    "Nobody can read your data.",
  );

  const created = h("div", { class: "created-code" });
  const inviteCard = h("div");
  const showInvite = () => {
    inviteCard.replaceChildren(
      invitationForm(ctx, async (invitation) => {
        created.replaceChildren(codeCard(invitation));
        created.querySelector<HTMLElement>("h3")?.focus();
        await invitations.load();
      }),
    );
  };
  if (consent.accepted) showInvite();
  else inviteCard.append(consentCard(ctx, consent, showInvite));

  await Promise.all([invitations.load(), grants.load()]);
  part.append(
    h("h2", {}, "Invite someone"),
    inviteCard,
    created,
    h("h2", {}, "Invitations"),
    invitations.element,
    h("h2", {}, "Who can read your data"),
    grants.element,
  );
  return part;
}

/** Sharing is refused until both current documents are accepted: ask here, with links to read them. */
function consentCard(ctx: ViewContext, consent: ConsentStatus, accepted: () => void): HTMLElement {
  const box = h("input", { type: "checkbox", name: "accept", required: true });
  const { terms, privacy } = consent.current;
  const boxId = uid("accept");
  box.id = boxId;
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "consent-title" },
    h("h3", { id: "consent-title" }, "Before you share"),
    h(
      "p",
      {},
      "Sharing lets someone else read your data, so it needs the current ",
      h("a", { href: terms.url, target: "_blank", rel: "noopener" }, `terms (${terms.version})`),
      " and ",
      h("a", { href: privacy.url, target: "_blank", rel: "noopener" }, `privacy notice (${privacy.version})`),
      " accepted.",
    ),
    h("div", { class: "choice" }, box, h("label", { for: boxId }, "I have read and accept the terms and the privacy notice")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Accept")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void ctx.run("Recording your acceptance…", async () => {
      for (const [document, version] of [
        ["terms", terms.version],
        ["privacy", privacy.version],
      ] as const) {
        await ctx.api.request("POST", "/v1/me/consents", { body: { document, version }, signal: ctx.signal });
      }
      accepted();
    });
  });
  return form;
}

function invitationForm(ctx: ViewContext, created: (invitation: CreatedInvitation) => Promise<void>): HTMLElement {
  const today = new Date();
  const role = h("select", { name: "role" }, ...GRANTEE_ROLES.map((r) => h("option", { value: r }, r)));
  const boxes = CATEGORIES.map((category) => {
    const box = h("input", { type: "checkbox", name: "categories", value: category, checked: category === "vitals" });
    box.id = uid("category");
    return { category, box };
  });
  const ends = h("input", {
    type: "date",
    name: "expiresAt",
    required: true,
    value: dateValue(new Date(today.getTime() + 30 * DAY_MS)),
    min: dateValue(new Date(today.getTime() + DAY_MS)),
    max: dateValue(new Date(today.getTime() + 364 * DAY_MS)),
  });
  const since = h("input", { type: "date", name: "dataSince" });
  const until = h("input", { type: "date", name: "dataUntil" });
  const note = h("textarea", { name: "note", rows: "2", maxlength: "500" });
  const form = h(
    "form",
    { class: "card", "aria-label": "Invite someone" },
    field("They must be a", role, "Only an account with this role can redeem the code."),
    h(
      "fieldset",
      {},
      h("legend", {}, "What they may read"),
      h(
        "div",
        { class: "choices" },
        ...boxes.map(({ category, box }) => h("div", { class: "choice" }, box, h("label", { for: box.id }, category))),
      ),
    ),
    field("Access ends on", ends, "At most a year from now. You can revoke it earlier at any time."),
    h(
      "fieldset",
      {},
      h("legend", {}, "Only data from this period (optional)"),
      h("div", { class: "panels" }, field("From", since), field("Until (inclusive)", until)),
    ),
    field("Note for them (optional)", note),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create invitation")),
  );
  // At least one category: the browser's own validation message, on the first box.
  const checkCategories = () =>
    boxes[0]?.box.setCustomValidity(boxes.some(({ box }) => box.checked) ? "" : "Choose at least one category to share.");
  for (const { box } of boxes) box.addEventListener("change", checkCategories);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const categories = boxes.filter(({ box }) => box.checked).map(({ category }) => category);
    // The grant ends at the end of the chosen day, the period's "until" after its last day.
    const body: Record<string, unknown> = {
      role: role.value,
      categories,
      expiresAt: new Date(startOfDay(ends.value).getTime() + DAY_MS - 1000).toISOString(),
    };
    if (since.value !== "") body.dataSince = startOfDay(since.value).toISOString();
    if (until.value !== "") body.dataUntil = new Date(startOfDay(until.value).getTime() + DAY_MS).toISOString();
    if (note.value.trim() !== "") body.note = note.value.trim();
    void ctx.run("Creating the invitation…", async () => {
      const invitation = await ctx.api.request<CreatedInvitation>("POST", "/v1/me/grants/invitations", {
        body,
        signal: ctx.signal,
      });
      await created(invitation);
    });
  });
  return form;
}

/** The code, shown once: only its hash is stored, so it cannot be shown again. */
function codeCard(invitation: CreatedInvitation): HTMLElement {
  const copy = h("button", { type: "button", class: "secondary" }, "Copy the code");
  const copied = h("span", { role: "status" });
  copy.addEventListener("click", () => {
    navigator.clipboard.writeText(invitation.code).then(
      () => {
        copied.textContent = "Copied.";
      },
      () => {
        copied.textContent = "Copying is not allowed here: select the code and copy it.";
      },
    );
  });
  return h(
    "div",
    { class: "card" },
    h("h3", { tabindex: "-1" }, "Invitation code"),
    h("p", { class: "code mono", "data-code": "" }, invitation.code),
    h(
      "p",
      {},
      `Give this code to the ${invitation.role} you want to share with. It is shown only now, works once, and must be redeemed before ${formatDateTime(invitation.expiresAt)}. They can read ${invitation.categories.join(", ")} until ${formatDateTime(invitation.grantExpiresAt)}.`,
    ),
    h("div", { class: "actions" }, copy, copied),
  );
}

/** A clinician's or researcher's side: redeem a code, the grants they hold, a patient's latest values. */
async function sharedWithYou(ctx: ViewContext, me: Me, say: (text: string) => void): Promise<HTMLElement> {
  const part = h("div", { class: "sharing-held" });
  const list = h("div");
  const load = async () => {
    const page = await ctx.api.request<Page<GranteeGrant>>("GET", "/v1/grants", { signal: ctx.signal });
    list.replaceChildren();
    if (page.items.length === 0) {
      list.append(h("p", {}, "Nobody shares their data with you yet. Redeem the code a patient gave you."));
      return;
    }
    list.append(...page.items.map((grant) => heldGrantCard(ctx, grant)));
    if (page.nextCursor !== null) list.append(h("p", { class: "hint" }, "Only the newest grants are shown."));
  };

  const code = h("input", {
    name: "code",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    required: true,
  });
  const redeem = h(
    "form",
    { class: "card", "aria-label": "Redeem an invitation" },
    field("Invitation code", code, "Dashes, spaces and the PLS prefix are optional."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Redeem")),
  );
  redeem.addEventListener("submit", (event) => {
    event.preventDefault();
    void ctx.run("Redeeming…", async () => {
      const { grant } = await ctx.api.request<{ grant: GranteeGrant }>("POST", "/v1/grants/redeem", {
        body: { code: code.value.trim() },
        signal: ctx.signal,
      });
      code.value = "";
      await load();
      say(
        `${grant.patient.displayName} shares ${grant.categories.join(", ")} with you until ${formatDateTime(grant.expiresAt)}.`,
      );
    });
  });
  await load();
  part.append(
    h("h2", {}, "Shared with you"),
    h("p", { class: "hint" }, `You are signed in as a ${me.role}. Every read you make is shown to the patient with your reason.`),
    redeem,
    list,
  );
  return part;
}

function heldGrantCard(ctx: ViewContext, grant: GranteeGrant): HTMLElement {
  const headingId = uid("grant");
  const purpose = h("select", { name: "purpose" }, ...PURPOSES.map((p) => h("option", { value: p }, p.replace("-", " "))));
  const why = h("input", { name: "reason", maxlength: "200" });
  const result = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "read-form", "aria-labelledby": headingId },
    h("div", { class: "panels" }, field("Purpose", purpose), field("Reason (optional)", why, "Shown to the patient.")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Read latest values")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = why.value.trim() === "" ? purpose.value : `${purpose.value}; ${why.value.trim()}`;
    void ctx.run(`Reading ${grant.patient.displayName}'s latest values…`, async () => {
      result.replaceChildren();
      const { items } = await ctx.api.request<{ items: Observation[] }>(
        "GET",
        `/v1/patients/${encodeURIComponent(grant.patient.id)}/observations/latest`,
        { headers: { "X-Access-Reason": reason }, signal: ctx.signal },
      );
      result.append(
        items.length === 0
          ? h("p", {}, "No values within this grant.")
          : table(
              `${grant.patient.displayName}'s latest values`,
              ["Measure", "Value", "When"],
              items.map((item) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, item.metric.replace(/_/g, " ")),
                  h("td", {}, `${item.value} ${item.unit}`),
                  h("td", {}, formatDateTime(item.start)),
                ),
              ),
            ),
      );
    });
  });
  return h(
    "article",
    { class: "card", "aria-labelledby": headingId },
    h("h3", { id: headingId }, grant.patient.displayName),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Categories"),
      h("dd", {}, grant.categories.join(", ")),
      h("dt", {}, "Period of data"),
      h("dd", {}, periodText(grant.dataSince, grant.dataUntil)),
      h("dt", {}, "Until"),
      h("dd", {}, formatDateTime(grant.expiresAt)),
      grant.note === null ? null : [h("dt", {}, "Note"), h("dd", {}, grant.note)],
    ),
    form,
    result,
  );
}
