/**
 * Upload Health Connect exports: files dropped on the drop zone or chosen with its file input are
 * sent one by one with their progress, then each upload's status is polled until the ingest job
 * has completed (with its counts) or failed (with the server's reason). Below, the upload history.
 * Leaving the page cancels transfers still running and stops the polling (ctx.signal); what the
 * server already received keeps being ingested and shows up in the history.
 */
import { ProblemError } from "../api.ts";
import { explain } from "../auth.ts";
import { field, h } from "../dom.ts";
import { formatBytes, STATUS_LABEL, type Upload, uploadHistory } from "../uploads/history.ts";
import { MAX_UPLOAD_BYTES, sendFile } from "../uploads/send-file.ts";
import type { View, ViewContext } from "../view.ts";

/** Two transfers at a time: enough to keep the connection busy, few enough to show the order. */
const PARALLEL = 2;
const FIRST_POLL_MS = 500;
const MAX_POLL_MS = 4000;

interface Item {
  file: File;
  progress: HTMLProgressElement;
  state: HTMLElement;
  counts: HTMLElement;
  element: HTMLLIElement;
}

function fileItem(file: File): Item {
  const progress = h("progress", { max: "1", value: "0", "aria-label": `Sending ${file.name}` });
  const state = h("p", { class: "upload-state", "aria-live": "polite" }, "Waiting to be sent");
  const counts = h("dl", { class: "facts upload-counts", hidden: true });
  const element = h(
    "li",
    { class: "upload-item" },
    h("p", { class: "upload-name" }, h("strong", {}, file.name), h("span", { class: "hint" }, ` ${formatBytes(file.size)}`)),
    progress,
    state,
    counts,
  );
  return { file, progress, state, counts, element };
}

function setState(item: Item, text: string, tone: "busy" | "ok" | "bad" = "busy"): void {
  item.state.textContent = text;
  item.state.className = `upload-state is-${tone}`;
}

function showCounts(item: Item, upload: Upload): void {
  const facts: [string, number][] = [
    ["Records in the file", upload.recordCount],
    ["Stored", upload.counts.accepted],
    ["Already stored", upload.counts.duplicate],
    ["Flagged out of range", upload.counts.flagged],
    ["Rejected", upload.counts.rejected],
  ];
  item.counts.replaceChildren(...facts.flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]));
  item.counts.hidden = false;
}

/** Why a file is not sent at all, or null when it may be. */
function localRefusal(file: File): string | null {
  if (!/\.avro$/i.test(file.name)) return "Not sent: only Health Connect exports (.avro files) can be uploaded.";
  if (file.size > MAX_UPLOAD_BYTES) return `Not sent: the file is ${formatBytes(file.size)}; the limit is 50 MB.`;
  return null;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Polls the upload until the ingest job is done; shows each status on the way. */
async function follow(ctx: ViewContext, item: Item, id: string): Promise<Upload> {
  let delay = FIRST_POLL_MS;
  for (;;) {
    const upload = await ctx.api.request<Upload>("GET", `/v1/uploads/${encodeURIComponent(id)}`, { signal: ctx.signal });
    if (upload.status === "completed" || upload.status === "failed") return upload;
    setState(item, upload.status === "queued" ? "Queued for processing" : `Processing: ${upload.counts.accepted} stored so far`);
    await pause(delay, ctx.signal);
    delay = Math.min(delay * 2, MAX_POLL_MS);
  }
}

async function upload(ctx: ViewContext, item: Item, onDone: () => void): Promise<void> {
  const refusal = localRefusal(item.file);
  if (refusal !== null) {
    item.progress.hidden = true;
    setState(item, refusal, "bad");
    return;
  }
  try {
    setState(item, "Sending…");
    const { receipt, sentBefore } = await sendFile(ctx.api, item.file, {
      signal: ctx.signal,
      onProgress: (fraction) => {
        item.progress.value = fraction;
      },
      onWait: (seconds) => setState(item, `Upload limit reached (10 a minute): trying again in ${seconds} s`),
    });
    item.progress.value = 1;
    setState(item, sentBefore ? "Sent before: showing that upload" : "Sent; waiting for processing");
    onDone();
    const result = await follow(ctx, item, receipt.uploadId);
    showCounts(item, result);
    if (result.status === "completed") {
      setState(item, `${STATUS_LABEL.completed}${sentBefore ? " (sent before)" : ""}`, "ok");
    } else {
      const reason = result.error === null ? "no reason given" : `${result.error.message} (${result.error.code})`;
      setState(item, `${STATUS_LABEL.failed}: ${reason}`, "bad");
    }
    onDone();
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") return;
    item.progress.hidden = true;
    const text = explain(error);
    setState(item, error instanceof ProblemError && error.status > 0 ? `Refused: ${text}` : text, "bad");
  }
}

const uploadView: View = {
  title: "Upload",
  render(ctx) {
    const history = uploadHistory(ctx);
    const list = h("ul", { class: "upload-list", "aria-label": "Files sent on this page" });
    const input = h("input", { type: "file", name: "files", accept: ".avro", multiple: true });
    const queue: Item[] = [];
    let running = 0;

    const reloadHistory = () => void ctx.run("Updating the upload history…", history.reload);
    const next = () => {
      while (running < PARALLEL && queue.length > 0) {
        const item = queue.shift();
        if (item === undefined) return;
        running += 1;
        void upload(ctx, item, reloadHistory).finally(() => {
          running -= 1;
          next();
        });
      }
    };
    const add = (files: Iterable<File>) => {
      for (const file of files) {
        const item = fileItem(file);
        list.prepend(item.element);
        queue.push(item);
      }
      next();
    };

    input.addEventListener("change", () => {
      add(input.files ?? []);
      // The same file may be chosen again later (to retry it).
      input.value = "";
    });

    const zone = h(
      "section",
      { class: "card dropzone", "aria-labelledby": "upload-drop-title" },
      h("h2", { id: "upload-drop-title" }, "Add Health Connect files"),
      h("p", { class: "dropzone-hint" }, "Drop .avro files here, or choose them."),
      field("Health Connect exports (.avro)", input, "Up to 50 MB each. Sending a file again does not store anything twice."),
      list,
    );
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      if (event.dataTransfer !== null) event.dataTransfer.dropEffect = "copy";
      zone.classList.add("is-dragging");
    });
    zone.addEventListener("dragleave", (event) => {
      if (!zone.contains(event.relatedTarget as Node | null)) zone.classList.remove("is-dragging");
    });
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("is-dragging");
      add(event.dataTransfer?.files ?? []);
    });
    // A file dropped just beside the zone would otherwise replace the app with the file itself.
    const keepPage = (event: DragEvent) => {
      if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
    };
    document.addEventListener("dragover", keepPage, { signal: ctx.signal });
    document.addEventListener("drop", keepPage, { signal: ctx.signal });

    void ctx.run("Loading the upload history…", history.reload);
    return h(
      "section",
      { class: "upload" },
      h("h1", {}, "Upload"),
      h(
        "p",
        { class: "lead" },
        "Health Connect exports: one Avro file per record type. Stay on this page until each file is sent; processing continues without you.",
      ),
      zone,
      history.element,
    );
  },
};
export default uploadView;
