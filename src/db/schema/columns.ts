import { integer } from "drizzle-orm/sqlite-core";

/**
 * Column helpers shared by every D1 table. Instants are stored as epoch milliseconds (INTEGER):
 * they sort and compare in SQL without parsing, and drizzle hands them back as `Date`.
 */
export function timestamps() {
  return {
    createdAt: integer("created_at", { mode: "timestamp_ms" })
      .notNull()
      .$defaultFn(() => new Date()),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" })
      .notNull()
      .$defaultFn(() => new Date())
      .$onUpdateFn(() => new Date()),
  };
}

/** Soft delete: a row with `deleted_at` set is hidden from domain reads until it is purged. */
export function softDelete() {
  return {
    deletedAt: integer("deleted_at", { mode: "timestamp_ms" }),
  };
}
