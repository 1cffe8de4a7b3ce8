import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

/**
 * One drizzle client per D1 binding, kept while the binding lives. Building one is not free: drizzle
 * derives the relational config of the whole schema each time (`extractTablesRelationalConfig`,
 * 4.5% of the Worker's CPU on the webhook bench, docs/benchmarks.md), and every request and queue
 * message asks for one.
 */
const clients = new WeakMap<D1Database, Db>();

export function getDb(d1: D1Database): Db {
  let db = clients.get(d1);
  if (db === undefined) {
    db = drizzle(d1, { schema });
    clients.set(d1, db);
  }
  return db;
}
