import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

/** The drizzle client over the D1 binding. Cheap: it only wraps the binding, so call it per request. */
export function getDb(d1: D1Database): Db {
  return drizzle(d1, { schema });
}
