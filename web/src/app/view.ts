import type { ApiClient } from "./api.ts";

/** The signed-in person, from GET /v1/me. */
export interface Me {
  id: string;
  username: string;
  displayName: string;
  role: string;
  createdAt: string;
}

/** What every view gets from the shell. */
export interface ViewContext {
  readonly api: ApiClient;
  readonly me: Me;
  /** Aborted when the person leaves the view: pending requests and timers stop with it. */
  readonly signal: AbortSignal;
  /** Runs a task with a busy message, showing its failure in the shell's alert region. */
  run(label: string, task: () => Promise<void>): Promise<boolean>;
  /** A short polite announcement ("Saved."), read by screen readers. */
  announce(text: string): void;
  navigate(path: string): void;
  /** The route's query (`#/dashboard?range=week` → range=week), for views that keep state in the address. */
  readonly query: URLSearchParams;
}

export interface View {
  /** The page's heading and document title. */
  readonly title: string;
  render(ctx: ViewContext): Promise<HTMLElement> | HTMLElement;
}
