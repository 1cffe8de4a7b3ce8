/**
 * Faults injected into one binding at a time, the rest of the app running on the real local ones.
 * Each wrapper forwards to the real binding until its rule says to fail, and then throws what the
 * real service throws (shapes below), so the code under test cannot tell the difference.
 */

/**
 * What workerd's D1 binding throws: `D1_ERROR: <message>`, the message again as `cause`
 * (developers.cloudflare.com/d1/observability/debug-d1 lists the messages).
 */
export function d1Error(message: string): Error {
  return new Error(`D1_ERROR: ${message}`, { cause: new Error(message) });
}

/** What R2's Workers API throws: the operation, the message, the error code in brackets. */
export function r2Error(operation: string, code: number, message: string): Error {
  return new Error(`${operation}: ${message} (${code})`);
}

/**
 * What the runtime throws at the call site when a Durable Object cannot take a call
 * (developers.cloudflare.com/durable-objects/best-practices/error-handling).
 */
export function durableObjectOverloaded(): Error {
  return Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), { overloaded: true });
}

const WRITE = /^\s*(insert|update|delete|replace)\b/i;

export function isWrite(sql: string): boolean {
  return WRITE.test(sql);
}

/** Decides, statement by statement, whether D1 fails: the error to throw, or undefined to run it. */
export type D1Rule = (sql: string) => Error | undefined;

class FaultyStatement {
  constructor(
    readonly real: D1PreparedStatement,
    readonly sql: string,
    private readonly rule: D1Rule,
  ) {}

  bind(...values: unknown[]): FaultyStatement {
    return new FaultyStatement(this.real.bind(...values), this.sql, this.rule);
  }

  private check(): void {
    const error = this.rule(this.sql);
    if (error) throw error;
  }

  async first(column?: string): Promise<unknown> {
    this.check();
    return column === undefined ? this.real.first() : this.real.first(column);
  }

  async all(): Promise<D1Result> {
    this.check();
    return this.real.all();
  }

  async run(): Promise<D1Result> {
    this.check();
    return this.real.run();
  }

  async raw(options?: { columnNames?: boolean }): Promise<unknown[]> {
    this.check();
    return options?.columnNames ? this.real.raw({ columnNames: true }) : this.real.raw();
  }
}

/** The real D1, failing the statements `rule` picks (a batch fails whole, as D1's does). */
export function faultyD1(real: D1Database, rule: D1Rule): D1Database {
  const faulty = {
    prepare: (sql: string) => new FaultyStatement(real.prepare(sql), sql, rule),
    batch: async (statements: FaultyStatement[]) => {
      for (const statement of statements) {
        const error = rule(statement.sql);
        if (error) throw error;
      }
      return real.batch(statements.map((statement) => statement.real));
    },
    exec: async (sql: string) => {
      const error = rule(sql);
      if (error) throw error;
      return real.exec(sql);
    },
    dump: () => real.dump(),
    withSession: () => faulty,
  };
  return faulty as unknown as D1Database;
}

/** The real bucket, except that writes fail with `error`. */
export function faultyR2Writes(real: R2Bucket, error: () => Error): R2Bucket {
  return new Proxy(real, {
    get(target, name) {
      if (name === "put" || name === "createMultipartUpload") return async () => Promise.reject(error());
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The real queue, keeping every message sent through it. */
export function recordingQueue<Body>(real: Queue<Body>): { queue: Queue<Body>; sent: Body[] } {
  const sent: Body[] = [];
  const queue = {
    send: async (body: Body, options?: QueueSendOptions) => {
      sent.push(body);
      return real.send(body, options);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<Body>>, options?: QueueSendBatchOptions) => {
      const list = [...messages];
      for (const message of list) sent.push(message.body);
      return real.sendBatch(list, options);
    },
  };
  return { queue: queue as unknown as Queue<Body>, sent };
}
