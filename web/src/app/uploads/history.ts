/**
 * The upload history (`GET /v1/uploads`, newest first, paged by cursor) as a table: one row per
 * upload with its status, counts and, for a failed one, the server's reason.
 */
import { formatDateTime, h } from "../dom.ts";
import type { ViewContext } from "../view.ts";
import type { UploadStatus } from "./send-file.ts";

/** An upload as `GET /v1/uploads/{id}` and the list answer it (Upload in /openapi.json). */
export interface Upload {
  id: string;
  status: UploadStatus;
  recordType: string;
  fileName: string | null;
  byteSize: number;
  recordCount: number;
  counts: { accepted: number; duplicate: number; flagged: number; rejected: number };
  error: { code: string; message: string } | null;
  createdAt: string;
  completedAt: string | null;
}

interface UploadPage {
  items: Upload[];
  nextCursor: string | null;
}

const PAGE_SIZE = 20;

export const STATUS_LABEL: Record<UploadStatus, string> = {
  queued: "Queued",
  processing: "Processing",
  completed: "Completed",
  failed: "Failed",
};

/** The record type in words: "HeartRateVariabilityRmssd" → "Heart Rate Variability Rmssd". */
export function recordTypeLabel(recordType: string): string {
  return recordType.replace(/([a-z])([A-Z])/g, "$1 $2");
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function row(upload: Upload): HTMLTableRowElement {
  const status =
    upload.status === "failed" && upload.error !== null
      ? [h("strong", {}, STATUS_LABEL.failed), h("span", { class: "hint" }, ` ${upload.error.message} (${upload.error.code})`)]
      : STATUS_LABEL[upload.status];
  return h(
    "tr",
    { "data-upload-id": upload.id },
    h("th", { scope: "row", class: "file-name" }, upload.fileName ?? "(unnamed)"),
    h("td", {}, recordTypeLabel(upload.recordType)),
    h("td", { class: `upload-status is-${upload.status}` }, status),
    h("td", { class: "num" }, upload.recordCount),
    h("td", { class: "num" }, upload.counts.accepted),
    h("td", { class: "num" }, upload.counts.duplicate),
    h("td", { class: "num" }, upload.counts.flagged),
    h("td", { class: "num" }, upload.counts.rejected),
    h("td", {}, formatDateTime(upload.createdAt)),
  );
}

export interface History {
  readonly element: HTMLElement;
  /** Loads the first page again (after an upload finished). */
  reload(): Promise<void>;
}

export function uploadHistory(ctx: ViewContext): History {
  const body = h("tbody");
  const headings = ["File", "Type", "Status", "Records", "Stored", "Duplicates", "Flagged", "Rejected", "Uploaded"];
  const table = h(
    "table",
    { class: "upload-history" },
    h("caption", { class: "visually-hidden" }, "Upload history, newest first"),
    h("thead", {}, h("tr", {}, ...headings.map((text) => h("th", { scope: "col" }, text)))),
    body,
  );
  const empty = h("p", { class: "hint" }, "No uploads yet. Files you upload are listed here.");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show older uploads");
  let cursor: string | null = null;

  const load = async (fresh: boolean) => {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (!fresh && cursor !== null) query.set("cursor", cursor);
    const page = await ctx.api.request<UploadPage>("GET", `/v1/uploads?${query}`, { signal: ctx.signal });
    if (fresh) body.replaceChildren();
    for (const upload of page.items) body.append(row(upload));
    cursor = page.nextCursor;
    more.hidden = cursor === null;
    empty.hidden = body.childElementCount > 0;
    table.hidden = body.childElementCount === 0;
  };
  more.addEventListener("click", () => {
    more.disabled = true;
    void ctx
      .run("Loading older uploads…", () => load(false))
      .finally(() => {
        more.disabled = false;
      });
  });

  const element = h(
    "section",
    { class: "card", "aria-labelledby": "upload-history-title" },
    h("h2", { id: "upload-history-title" }, "Upload history"),
    empty,
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Upload history table" }, table),
    h("div", { class: "actions" }, more),
  );
  return { element, reload: () => load(true) };
}
