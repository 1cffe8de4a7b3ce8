/**
 * The bench Worker's own counters (bench/worker.ts; read by the load harness, bench/population.mjs):
 * every call the Worker makes on a shared binding, counted where it is made rather than estimated
 * from request counts. `countedEnv(env, kind)` wraps the bindings in proxies that tally:
 *  - D1: statements executed (a batch counts each statement), split into reads and writes by the
 *    statement's SQL verb, and `rows_read` / `rows_written` from D1's own `meta` (for `raw()`,
 *    which answers without it, see `sendForRaw`; a statement whose meta cannot be had is tallied
 *    apart, not guessed);
 *  - R2: each operation by name, and class A (put, delete, list, multipart) / class B (get, head);
 *  - Queues: messages sent, per producer binding (a `sendBatch` counts each message);
 *  - Durable Objects: requests per namespace (`fetch` and every RPC method call on a stub).
 * Counts land under a `kind`: the request kind for fetch (including the `waitUntil` work it
 * leaves behind, which the request caused), `queue:<name>` for queue batches, `scheduled`, and
 * `do:<Class>` for what a Durable Object does with its own `env` (alarms included).
 *
 * The wrapped env for a kind is built once and kept, so the application's per-env caches (parsed
 * config, imported keys, drizzle clients) behave as in production. Durable Objects of this Worker
 * run in its isolate, so one module-level tally sees all of it.
 */

import { isWriteStatement } from "./sql-verb";

export interface KindCounters {
  requests: number;
  d1Reads: number;
  d1Writes: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  /** Statements whose answer carried no `meta` (`raw()`): counted as reads or writes, rows unknown. */
  d1WithoutMeta: number;
  r2ClassA: number;
  r2ClassB: number;
  r2ByOperation: Record<string, number>;
  queueMessages: Record<string, number>;
  /** Messages delivered to this Worker's consumer, by queue name (retries included). */
  queueMessagesReceived: Record<string, number>;
  durableObjectRequests: Record<string, number>;
}

const tally = new Map<string, KindCounters>();

function counters(kind: string): KindCounters {
  let entry = tally.get(kind);
  if (entry === undefined) {
    entry = {
      requests: 0,
      d1Reads: 0,
      d1Writes: 0,
      d1RowsRead: 0,
      d1RowsWritten: 0,
      d1WithoutMeta: 0,
      r2ClassA: 0,
      r2ClassB: 0,
      r2ByOperation: {},
      queueMessages: {},
      queueMessagesReceived: {},
      durableObjectRequests: {},
    };
    tally.set(kind, entry);
  }
  return entry;
}

const bump = (record: Record<string, number>, key: string, by = 1) => {
  record[key] = (record[key] ?? 0) + by;
};

/** One more request (a fetch, a queue batch, a scheduled run) of `kind`. */
export function countRequest(kind: string): void {
  counters(kind).requests += 1;
}

/** A batch of `count` messages from `queue` delivered to the consumer. */
export function countDelivery(kind: string, queue: string, count: number): void {
  bump(counters(kind).queueMessagesReceived, queue, count);
}

export function snapshotCounters(): Record<string, KindCounters> {
  return Object.fromEntries([...tally.entries()].map(([kind, entry]) => [kind, structuredClone(entry)]));
}

export function resetCounters(): void {
  tally.clear();
}

// ---------------------------------------------------------------------------------------------
// D1

const REAL = Symbol("real statement");
const SQL = Symbol("statement sql");

interface Meta {
  rows_read?: number;
  rows_written?: number;
}

function countStatement(entry: KindCounters, sql: string, meta: Meta | undefined): void {
  if (isWriteStatement(sql)) entry.d1Writes += 1;
  else entry.d1Reads += 1;
  if (meta === undefined) {
    entry.d1WithoutMeta += 1;
    return;
  }
  entry.d1RowsRead += meta.rows_read ?? 0;
  entry.d1RowsWritten += meta.rows_written ?? 0;
}

interface RawAnswer {
  meta: Meta;
  results: { columns: string[]; rows: unknown[][] };
}
interface StatementInternals {
  statement?: string;
  params?: unknown[];
  dbSession?: { _sendOrThrow?: (path: string, sql: string, params: unknown[], format: string) => Promise<RawAnswer[]> };
}

/**
 * `raw()` answers rows without D1's `meta`. workerd's own `raw()` is this same request on the
 * statement's session (the D1 API's JavaScript, built into workerd), whose answer carries the meta:
 * sending it here gives the rows a `raw()` would and their `rows_read`. Undefined where the
 * runtime's statement does not have that shape (then the statement runs as usual, rows unknown).
 */
async function sendForRaw(statement: D1PreparedStatement): Promise<RawAnswer | undefined> {
  const internals = statement as unknown as StatementInternals;
  const send = internals.dbSession?._sendOrThrow;
  if (typeof send !== "function" || typeof internals.statement !== "string" || !Array.isArray(internals.params)) return undefined;
  const answer = await send.call(internals.dbSession, "/query", internals.statement, internals.params, "ROWS_AND_COLUMNS");
  return Array.isArray(answer) ? answer[0] : (answer as RawAnswer);
}

type Statement = D1PreparedStatement & { [REAL]?: D1PreparedStatement; [SQL]?: string };

function countedStatement(real: D1PreparedStatement, sql: string, kind: string): D1PreparedStatement {
  return new Proxy(real, {
    get(target, prop) {
      if (prop === REAL) return target;
      if (prop === SQL) return sql;
      if (prop === "bind") return (...values: unknown[]) => countedStatement(target.bind(...values), sql, kind);
      if (prop === "first" || prop === "all" || prop === "run") {
        return async (...args: unknown[]) => {
          // `first` reads through `all` inside D1 but answers without meta: run it as `all` here.
          if (prop === "first") {
            const result = await target.all();
            countStatement(counters(kind), sql, result.meta as Meta);
            const [row] = result.results as Record<string, unknown>[];
            if (row === undefined) return null;
            const column = args[0];
            return typeof column === "string" ? row[column] : row;
          }
          const result = await (target[prop] as (...a: unknown[]) => Promise<D1Result>)(...args);
          countStatement(counters(kind), sql, result.meta as Meta);
          return result;
        };
      }
      if (prop === "raw") {
        return async (options?: { columnNames?: boolean }) => {
          const sent = await sendForRaw(target);
          if (sent === undefined) {
            const rows = await target.raw(options as { columnNames: true });
            countStatement(counters(kind), sql, undefined);
            return rows;
          }
          countStatement(counters(kind), sql, sent.meta);
          const { columns, rows } = sent.results;
          return options?.columnNames ? [columns, ...rows] : rows;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function countedD1(db: D1Database, kind: string): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => countedStatement(target.prepare(sql), sql, kind);
      if (prop === "batch") {
        return async (statements: Statement[]) => {
          const results = await target.batch(statements.map((statement) => statement[REAL] ?? statement));
          const entry = counters(kind);
          for (const [i, statement] of statements.entries())
            countStatement(entry, statement[SQL] ?? "", results[i]?.meta as Meta);
          return results;
        };
      }
      if (prop === "exec") {
        return async (sql: string) => {
          const result = await target.exec(sql);
          // exec runs several statements; its meta has no row counts.
          const entry = counters(kind);
          for (const part of sql.split(";").filter((s) => s.trim() !== "")) countStatement(entry, part, undefined);
          return result;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// R2

const CLASS_A = new Set(["put", "delete", "list", "createMultipartUpload", "uploadPart", "complete"]);
const CLASS_B = new Set(["get", "head"]);

function countR2(kind: string, operation: string): void {
  const entry = counters(kind);
  bump(entry.r2ByOperation, operation);
  if (CLASS_A.has(operation)) entry.r2ClassA += 1;
  else if (CLASS_B.has(operation)) entry.r2ClassB += 1;
}

function countedMultipart(upload: R2MultipartUpload, kind: string): R2MultipartUpload {
  return new Proxy(upload, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (typeof prop === "string" && (prop === "uploadPart" || prop === "complete" || prop === "abort")) {
        return (...args: unknown[]) => {
          countR2(kind, prop);
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
}

function countedR2(bucket: R2Bucket, kind: string): R2Bucket {
  return new Proxy(bucket, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      if (prop === "createMultipartUpload") {
        return async (...args: unknown[]) => {
          countR2(kind, prop);
          return countedMultipart(await value.apply(target, args), kind);
        };
      }
      // Resuming is local (no request): only what is then done with the upload counts.
      if (prop === "resumeMultipartUpload") return (...args: unknown[]) => countedMultipart(value.apply(target, args), kind);
      if (prop === "put" || prop === "delete" || prop === "list" || prop === "get" || prop === "head") {
        return (...args: unknown[]) => {
          countR2(kind, prop);
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Queues

function countedQueue(queue: Queue, binding: string, kind: string): Queue {
  return new Proxy(queue, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "send") {
        return (...args: unknown[]) => {
          bump(counters(kind).queueMessages, binding);
          return value.apply(target, args);
        };
      }
      if (prop === "sendBatch") {
        return (messages: Iterable<MessageSendRequest>, ...rest: unknown[]) => {
          const list = [...messages];
          bump(counters(kind).queueMessages, binding, list.length);
          return value.call(target, list, ...rest);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Durable Objects

/** Properties of a stub that are not requests to the object. */
const STUB_LOCAL = new Set(["id", "name", "then", "dup", "constructor", "toJSON"]);

function countedStub<T extends object>(stub: T, binding: string, kind: string): T {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof prop !== "string" || STUB_LOCAL.has(prop) || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        bump(counters(kind).durableObjectRequests, binding);
        return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
      };
    },
  });
}

function countedNamespace(namespace: DurableObjectNamespace, binding: string, kind: string): DurableObjectNamespace {
  return new Proxy(namespace, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "get" || prop === "getByName") {
        return (...args: unknown[]) => countedStub(value.apply(target, args), binding, kind);
      }
      if (prop === "jurisdiction") {
        return (...args: unknown[]) => countedNamespace(value.apply(target, args), binding, kind);
      }
      return value.bind(target);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The env

const QUEUES = ["INGEST", "SYNC", "WEBHOOKS"] as const;
const NAMESPACES = ["HEALTH_STORE", "RATE_LIMITER", "OAUTH_STATE", "AUTH_ACTIVITY", "WEBHOOK_LEDGER"] as const;

const wrapped = new WeakMap<object, Map<string, Env>>();

/** `env` with its shared bindings counted under `kind`; the same object for the same env and kind. */
export function countedEnv(env: Env, kind: string): Env {
  let byKind = wrapped.get(env);
  if (byKind === undefined) {
    byKind = new Map();
    wrapped.set(env, byKind);
  }
  const known = byKind.get(kind);
  if (known !== undefined) return known;
  const bindings: Record<string, unknown> = {
    DB: countedD1(env.DB, kind),
    LAKE: countedR2(env.LAKE, kind),
  };
  for (const name of QUEUES) if (env[name]) bindings[name] = countedQueue(env[name], name, kind);
  for (const name of NAMESPACES) {
    const namespace = (env as unknown as Record<string, DurableObjectNamespace | undefined>)[name];
    if (namespace) bindings[name] = countedNamespace(namespace, name, kind);
  }
  const counted = new Proxy(env, {
    get(target, prop) {
      if (typeof prop === "string" && prop in bindings) return bindings[prop];
      return Reflect.get(target, prop, target);
    },
  });
  byKind.set(kind, counted);
  return counted;
}
