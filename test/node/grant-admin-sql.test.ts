// scripts/grant-admin-sql.mjs chains its `user.role_change` event outside the Worker; the Worker
// must find exactly the hash it would have written (src/audit/commitments.ts), before and after
// the event's personal fields are erased by an account deletion.
import { describe, expect, it } from "vitest";
import {
  grantRoleSql,
  commitment as scriptCommitment,
  committedFields as scriptCommittedFields,
} from "../../scripts/grant-admin-sql.mjs";
import { GENESIS_ANCHOR } from "../../src/audit/chain";
import { commitment, committedFields, type StoredSecurityEvent, securityEventHash } from "../../src/audit/commitments";

const USER = "usr_abcdefghijklmnopqrstuvwxyz";
const TAIL = { seq: 41, hash: "ab".repeat(32) };

function stored(event: Awaited<ReturnType<typeof grantRoleSql>>["event"]): StoredSecurityEvent {
  return { ...event, erasedAt: null };
}

describe("scripts/grant-admin-sql.mjs", () => {
  it("computes the same commitments as the Worker, including non-ASCII and empty values", async () => {
    const salt = "0f".repeat(16);
    for (const value of ["usr_x", "", "Zoë ✓ 'quoted'", "2001:db8::1"]) {
      expect(await scriptCommitment(salt, "reason", value)).toBe(await commitment(salt, "reason", value));
    }
    const event = { actor: "a", subject: null, resource: "user:x", reason: null, ip: "1.2.3.4", seq: 1 };
    expect(await scriptCommittedFields(event, salt)).toEqual(await committedFields(event as never, salt));
  });

  it("writes an event whose hash the Worker recomputes from its stored fields and salt", async () => {
    const { event, statements } = await grantRoleSql({
      user: { id: USER, role: "patient" },
      tail: TAIL,
      role: "clinician",
      now: new Date("2026-12-07T05:00:00.000Z"),
    });
    expect(event).toMatchObject({ seq: 42, prevHash: TAIL.hash, subject: USER, resource: `user:${USER}` });
    expect(event.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(await securityEventHash(stored(event))).toBe(event.hash);
    // The salt is stored beside the hash, else nobody could recompute it.
    expect(statements[0]).toContain(", salt)");
    expect(statements[0]).toContain(`'${event.salt}')`);
    expect(statements[1]).toContain("role = 'clinician'");
  });

  it("still verifies once the account's deletion erased the personal fields", async () => {
    const { event } = await grantRoleSql({ user: { id: USER, role: "patient" }, tail: null });
    expect(event.prevHash).toBe(GENESIS_ANCHOR.hash);
    const erased: StoredSecurityEvent = {
      ...(await committedFields(stored(event), event.salt)),
      salt: null,
      erasedAt: new Date(),
    };
    expect(erased.subject).not.toContain(USER);
    expect(await securityEventHash(erased)).toBe(event.hash);
  });

  it("does not verify when a field is edited, or under another salt", async () => {
    const { event } = await grantRoleSql({ user: { id: USER, role: "patient" }, tail: TAIL });
    expect(await securityEventHash({ ...stored(event), reason: "role patient -> auditor" })).not.toBe(event.hash);
    expect(await securityEventHash({ ...stored(event), salt: "00".repeat(16) })).not.toBe(event.hash);
  });

  it("refuses an unknown role or a malformed salt", async () => {
    await expect(grantRoleSql({ user: { id: USER, role: "patient" }, tail: TAIL, role: "root" })).rejects.toThrow(/role/);
    await expect(grantRoleSql({ user: { id: USER, role: "patient" }, tail: TAIL, salt: "x" })).rejects.toThrow(/salt/);
  });
});
