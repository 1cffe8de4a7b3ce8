/**
 * Provider connections (GET /v1/connections): each connected provider with its status, last sync
 * and last error, "Sync now" and a confirmed disconnect; the providers one can connect, and the
 * ones this deployment cannot offer with the reason.
 *
 * Connecting leaves the app: Pulse's confirmation page, the provider's consent page, then back to
 * `returnTo` (this page) with `?connected=<provider>` or `?error=<code>`. The session lives in the
 * page's memory only, so the person signs in again on return; the hash survives the trip, so they
 * land here and read the outcome.
 */
import { formatDateTime, h } from "../dom.ts";
import type { View, ViewContext } from "../view.ts";

interface Connection {
  provider: string;
  displayName: string;
  status: "active" | "reauth_required" | "revoked" | "sync_failed";
  scopes: string[];
  connectedAt: string;
  lastSyncAt: string | null;
  lastError: { code: string; message: string } | null;
}

interface Overview {
  connections: Connection[];
  available: { provider: string; displayName: string; connected: boolean }[];
  unavailable: { provider: string; reason: string }[];
}

interface Observation {
  metric: string;
  start: string;
  value: number;
  unit: string;
  sourceKind: string;
  sourceApp: string;
}

const STATUS_WORDS: Record<Connection["status"], string> = {
  active: "Connected",
  reauth_required: "Needs reconnecting",
  revoked: "Disconnected",
  sync_failed: "Last sync failed",
};

/** While a first import or a requested sync is pending, the list is read again this often. */
const POLL_MS = 3_000;
/** …and for at most this long, so a page left open does not poll forever. */
const POLL_FOR_MS = 5 * 60_000;

/** The outcome the OAuth flow appended to this page's address (`?connected=sandbox`). */
function readOutcome(): { connected: string | null; error: string | null } {
  const params = new URLSearchParams(location.search);
  return { connected: params.get("connected"), error: params.get("error") };
}

/** Once shown, the outcome leaves the address, so a later visit does not repeat it. */
function forgetOutcome(): void {
  if (location.search !== "") history.replaceState(history.state, "", `${location.pathname}${location.hash}`);
}

function outcomeText(outcome: { connected: string | null; error: string | null }, overview: Overview): string | null {
  if (outcome.connected !== null) {
    const name = overview.available.find((p) => p.provider === outcome.connected)?.displayName ?? outcome.connected;
    return `${name} is connected. Pulse is copying your data; the first import can take a few minutes.`;
  }
  if (outcome.error === "access_denied") return "You declined at the provider, so nothing was connected.";
  if (outcome.error === "cancelled") return "Connecting was cancelled; nothing was connected.";
  if (outcome.error !== null) return `Nothing was connected (${outcome.error}).`;
  return null;
}

/**
 * The measures providers send, read back with GET /v1/observations/latest (which needs them named),
 * with the names a person reads.
 */
const PROVIDER_METRICS: Record<string, string> = {
  heart_rate: "Heart rate",
  resting_heart_rate: "Resting heart rate",
  hrv_rmssd: "HRV (RMSSD)",
  steps: "Steps",
  active_energy: "Active energy",
  distance: "Distance",
  blood_glucose: "Glucose",
  oxygen_saturation: "Oxygen saturation",
  respiratory_rate: "Respiratory rate",
  weight: "Weight",
};

const metricName = (code: string) => PROVIDER_METRICS[code] ?? code.replace(/_/g, " ");

const connections: View = {
  title: "Connections",
  async render(ctx) {
    const outcome = readOutcome();
    // The view's own polite region: the shell's status line is cleared when a task ends, and these
    // outcomes must stay readable.
    const notice = h("p", { class: "notice", role: "status" });
    const say = (text: string) => {
      notice.textContent = text;
    };
    const list = h("div", { class: "connections" });
    const connectList = h("div");
    const unavailableList = h("div");
    const latest = h("div");
    let overview: Overview = await ctx.api.request<Overview>("GET", "/v1/connections", { signal: ctx.signal });
    let pollUntil = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    ctx.signal.addEventListener("abort", () => clearTimeout(timer));

    const text = outcomeText(outcome, overview);
    if (text !== null) say(text);
    if (outcome.connected !== null) pollUntil = Date.now() + POLL_FOR_MS;

    const reload = async () => {
      const before = new Map(overview.connections.map((c) => [c.provider, c.lastSyncAt]));
      overview = await ctx.api.request<Overview>("GET", "/v1/connections", { signal: ctx.signal });
      for (const connection of overview.connections) {
        const previous = before.get(connection.provider);
        if (connection.lastSyncAt !== null && previous !== undefined && previous !== connection.lastSyncAt) {
          say(`${connection.displayName} synced at ${formatDateTime(connection.lastSyncAt)}.`);
        }
      }
      draw();
      await drawLatest();
    };

    /** Reads the list again while something is pending; stops when nothing is, or after POLL_FOR_MS. */
    const schedule = (pending: () => boolean) => {
      clearTimeout(timer);
      if (ctx.signal.aborted || Date.now() > pollUntil) return;
      timer = setTimeout(() => {
        void reload()
          .catch((error: unknown) => {
            // A failed background read is not worth an alert; the next one or "Refresh" tries again.
            if (!(error instanceof DOMException && error.name === "AbortError")) console.error(error);
          })
          .then(() => {
            if (pending()) schedule(pending);
          });
      }, POLL_MS);
    };
    const firstImportPending = () => overview.connections.some((c) => c.status === "active" && c.lastSyncAt === null);

    const startConnecting = (provider: string) =>
      ctx.run("Starting the connection…", async () => {
        // Back to this page afterwards; only an origin this deployment allows is accepted, and the
        // app's own origin always is.
        const returnTo = `${location.origin}/app#/connections`;
        const started = await ctx.api.request<{ authorizeUrl: string }>("POST", `/v1/connections/${provider}`, {
          body: { returnTo },
          signal: ctx.signal,
        });
        location.assign(started.authorizeUrl);
      });

    const connectionCard = (connection: Connection): HTMLElement => {
      const headingId = `connection-${connection.provider}`;
      const card = h("article", { class: "card", "aria-labelledby": headingId });
      const actions = h("div", { class: "actions" });
      const facts = h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Status"),
        h("dd", { "data-fact": "status" }, STATUS_WORDS[connection.status] ?? connection.status),
        h("dt", {}, "Connected"),
        h("dd", {}, formatDateTime(connection.connectedAt)),
        h("dt", {}, "Last sync"),
        h(
          "dd",
          { "data-fact": "last-sync" },
          connection.lastSyncAt !== null
            ? formatDateTime(connection.lastSyncAt)
            : connection.status === "active"
              ? "Not yet: the first import is running"
              : "Never",
        ),
        connection.scopes.length > 0 ? [h("dt", {}, "Access"), h("dd", {}, connection.scopes.join(", "))] : null,
        connection.lastError === null
          ? null
          : [h("dt", {}, "Problem"), h("dd", { class: "error-text" }, connection.lastError.message)],
      );
      card.append(h("h3", { id: headingId }, connection.displayName), facts, actions);

      if (connection.status === "active" || connection.status === "sync_failed") {
        const sync = h("button", { type: "button" }, "Sync now");
        sync.setAttribute("aria-describedby", headingId);
        sync.addEventListener("click", () => {
          void ctx.run(`Asking ${connection.displayName} for new data…`, async () => {
            const accepted = await ctx.api.request<{ since: string; until: string }>(
              "POST",
              `/v1/connections/${connection.provider}/sync`,
              { body: {}, signal: ctx.signal },
            );
            say(
              `Sync queued for ${formatDateTime(accepted.since)} to ${formatDateTime(accepted.until)}; the page updates when it is done.`,
            );
            const before = connection.lastSyncAt;
            pollUntil = Date.now() + POLL_FOR_MS;
            schedule(() => overview.connections.find((c) => c.provider === connection.provider)?.lastSyncAt === before);
          });
        });
        actions.append(sync);
      }
      if (connection.status === "reauth_required" || connection.status === "revoked") {
        const again = h("button", { type: "button" }, `Connect ${connection.displayName} again`);
        again.addEventListener("click", () => void startConnecting(connection.provider));
        actions.append(again);
      }
      if (connection.status !== "revoked") {
        const disconnect = h("button", { type: "button", class: "danger" }, "Disconnect…");
        disconnect.setAttribute("aria-describedby", headingId);
        disconnect.addEventListener("click", () => {
          disconnect.hidden = true;
          const form = confirmDisconnect(ctx, connection, say, async () => {
            form.remove();
            disconnect.hidden = false;
            await reload();
          });
          form.addEventListener("cancel-confirm", () => {
            form.remove();
            disconnect.hidden = false;
            disconnect.focus();
          });
          card.append(form);
          form.querySelector<HTMLInputElement>("input")?.focus();
        });
        actions.append(disconnect);
      }
      return card;
    };

    const draw = () => {
      list.replaceChildren();
      if (overview.connections.length === 0) {
        list.append(h("p", {}, "No provider is connected yet. Connect one below and its data arrives here on its own."));
      } else {
        list.append(...overview.connections.map(connectionCard));
      }

      connectList.replaceChildren();
      const connectable = overview.available.filter((p) => !p.connected);
      if (connectable.length === 0) {
        connectList.append(h("p", {}, "Every provider this deployment offers is connected."));
      } else {
        const items = connectable.map((provider) => {
          const button = h("button", { type: "button" }, `Connect ${provider.displayName}`);
          button.addEventListener("click", () => void startConnecting(provider.provider));
          return h("li", {}, button);
        });
        connectList.append(
          h(
            "p",
            { class: "hint" },
            "You go to Pulse's confirmation page, then to the provider to approve, then back here. " +
              "Your session lives in this page only, so sign in again when you come back.",
          ),
          h("ul", { class: "provider-list" }, ...items),
        );
      }

      unavailableList.replaceChildren();
      if (overview.unavailable.length > 0) {
        unavailableList.append(
          h("h2", {}, "Not available here"),
          h("ul", {}, ...overview.unavailable.map((p) => h("li", {}, h("strong", {}, p.provider), `: ${p.reason}`))),
        );
      }
    };

    /** What the connected providers sent most recently, so a person sees their data arrive. */
    const drawLatest = async () => {
      const providers = new Set(overview.connections.map((c) => c.provider));
      if (providers.size === 0) {
        latest.replaceChildren();
        return;
      }
      const metrics = Object.keys(PROVIDER_METRICS).join(",");
      const { items } = await ctx.api.request<{ items: Observation[] }>("GET", `/v1/observations/latest?metrics=${metrics}`, {
        signal: ctx.signal,
      });
      const fromProviders = items.filter((item) => item.sourceKind === "provider" && providers.has(item.sourceApp));
      latest.replaceChildren(h("h2", { id: "latest-title" }, "Latest from your providers"));
      if (fromProviders.length === 0) {
        latest.append(h("p", {}, "Nothing has arrived yet."));
        return;
      }
      const name = (provider: string) => overview.connections.find((c) => c.provider === provider)?.displayName ?? provider;
      latest.append(
        h(
          "div",
          { class: "table-scroll" },
          h(
            "table",
            { "aria-labelledby": "latest-title" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "col" }, "Measure"),
                h("th", { scope: "col" }, "Value"),
                h("th", { scope: "col" }, "When"),
                h("th", { scope: "col" }, "From"),
              ),
            ),
            h(
              "tbody",
              {},
              ...fromProviders.map((item) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, metricName(item.metric)),
                  h("td", {}, `${item.value} ${item.unit}`),
                  h("td", {}, formatDateTime(item.start)),
                  h("td", {}, name(item.sourceApp)),
                ),
              ),
            ),
          ),
        ),
      );
    };

    draw();
    await drawLatest();
    if (firstImportPending()) {
      pollUntil = Math.max(pollUntil, Date.now() + POLL_FOR_MS);
      schedule(firstImportPending);
    }

    // Only a render that is shown consumes the outcome: one overtaken by another (a second sign-in,
    // a quick navigation) leaves it for the one that is.
    if (!ctx.signal.aborted) forgetOutcome();

    const refresh = h("button", { type: "button", class: "secondary" }, "Refresh");
    refresh.addEventListener("click", () => void ctx.run("Reading your connections…", reload));

    return h(
      "section",
      {},
      h("h1", {}, "Connections"),
      notice,
      h("h2", {}, "Your providers"),
      list,
      h("div", { class: "actions" }, refresh),
      latest,
      h("h2", {}, "Connect a provider"),
      connectList,
      unavailableList,
    );
  },
};

/**
 * The confirmation before disconnecting: what happens to the data already copied is the person's
 * choice (kept by default), and nothing happens until they press the button.
 */
function confirmDisconnect(
  ctx: ViewContext,
  connection: Connection,
  say: (text: string) => void,
  done: () => Promise<void>,
): HTMLFormElement {
  const keep = h("input", { type: "radio", name: "data", value: "keep", checked: true });
  const remove = h("input", { type: "radio", name: "data", value: "delete" });
  keep.id = `keep-${connection.provider}`;
  remove.id = `delete-${connection.provider}`;
  const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
  const form = h(
    "form",
    { class: "confirm", "aria-label": `Disconnect ${connection.displayName}` },
    h(
      "fieldset",
      {},
      h("legend", {}, `Disconnect ${connection.displayName}? Pulse stops copying and deletes its tokens.`),
      h("div", { class: "choice" }, keep, h("label", { for: keep.id }, "Keep the data already copied")),
      h(
        "div",
        { class: "choice" },
        remove,
        h("label", { for: remove.id }, `Also delete ${connection.displayName}'s data from my record`),
      ),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "danger" }, "Disconnect"), cancel),
  );
  cancel.addEventListener("click", () => form.dispatchEvent(new Event("cancel-confirm")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = remove.checked ? "delete" : "keep";
    void ctx.run(`Disconnecting ${connection.displayName}…`, async () => {
      const result = await ctx.api.request<{
        revokedAtProvider: boolean;
        dataDeleted: { observations: number; sleepSessions: number; workouts: number } | null;
      }>("DELETE", `/v1/connections/${connection.provider}?data=${data}`, { signal: ctx.signal });
      const parts = [`${connection.displayName} is disconnected.`];
      if (!result.revokedAtProvider) parts.push("The provider could not be told; you can also remove Pulse's access there.");
      if (result.dataDeleted !== null) {
        const d = result.dataDeleted;
        parts.push(`Deleted ${d.observations} observations, ${d.sleepSessions} sleep sessions and ${d.workouts} workouts.`);
      }
      await done();
      say(parts.join(" "));
    });
  });
  return form;
}

export default connections;
