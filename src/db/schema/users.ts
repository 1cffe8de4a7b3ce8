import { sql } from "drizzle-orm";
import { check, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { softDelete, timestamps } from "./columns";

/** Roles (DESIGN §4). `patient` is the default: a new account owns its own data and nothing else. */
export const USER_ROLES = ["patient", "clinician", "researcher", "admin", "auditor"] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** The RFC 8265 `UsernameCaseMapped` form (src/identifiers/precis.ts); legacy rows may differ in ASCII case. */
    username: text("username").notNull(),
    /**
     * UTS #39 skeleton of the username (src/identifiers/skeleton.ts): unique, so confusable names
     * cannot coexist. NULL only on rows created before it existed, until the backfill job
     * (src/db/usernames.ts) sets it; `legacy:<id>` marks a legacy name that no longer validates or
     * is confusable with an older account's, which keeps working but should be renamed.
     */
    usernameSkeleton: text("username_skeleton"),
    displayName: text("display_name").notNull(),
    role: text("role", { enum: USER_ROLES }).notNull().default("patient"),
    ...timestamps(),
    ...softDelete(),
  },
  (table) => [
    // Case-insensitive: "Ada" and "ada" are the same account name, whatever the caller normalizes.
    uniqueIndex("users_username_unique").on(sql`lower(${table.username})`),
    uniqueIndex("users_username_skeleton_unique").on(table.usernameSkeleton),
    check("users_role_check", sql.raw(`role IN (${USER_ROLES.map((role) => `'${role}'`).join(", ")})`)),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
