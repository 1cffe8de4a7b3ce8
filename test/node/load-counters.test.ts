import { describe, expect, it } from "vitest";
import { isWriteStatement } from "../../bench/sql-verb";

describe("the bench Worker's D1 counter: a statement is a write by its SQL verb", () => {
  it.each([
    ["insert into uploads (id) values (?)", true],
    ['  UPDATE "sessions" SET "last_seen_at" = ?', true],
    ["DELETE FROM dpop_jtis WHERE expires_at < ?", true],
    ["REPLACE INTO t VALUES (1)", true],
    ["/* by the job */ INSERT OR IGNORE INTO t VALUES (1)", true],
    ["-- note\nupdate t set a = 1", true],
    ["WITH old AS (SELECT id FROM t) DELETE FROM t WHERE id IN (SELECT id FROM old)", true],
    ['select "id" from "users" where "id" = ?', false],
    ["WITH x AS (SELECT 1) SELECT * FROM x", false],
    ["PRAGMA table_info(users)", false],
  ])("%s", (sql, write) => {
    expect(isWriteStatement(sql)).toBe(write);
  });
});
