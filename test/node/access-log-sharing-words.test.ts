// The access log's sentences for sharing, uploads and exports: what a patient reads after giving
// a clinician access, taking it back, and exporting their data (the stored resources are the ones
// src/sharing, src/uploads and src/exports write).
import { describe, expect, it } from "vitest";
import { describeEvent } from "../../src/access-log/describe";
import { auditEvent } from "../support/audit-event";

describe("access log words for sharing and exports", () => {
  it("says who was given access and who lost it", () => {
    expect(describeEvent(auditEvent("grant.redeem", "grant:grt_abc"))).toBe(
      "Redeemed your invitation and was given access (grant grt_abc)",
    );
    expect(describeEvent(auditEvent("grant.redeem", "grant:grt_abc", "failure"))).toBe(
      "Tried to redeem your invitation and was given access (grant grt_abc); it failed",
    );
    expect(describeEvent(auditEvent("grant.revoke", "grant:grt_abc"))).toBe(
      "Revoked a grant: its holder's access ended (grant grt_abc)",
    );
  });

  it("names the export and each file read into it, and the download", () => {
    expect(describeEvent(auditEvent("export.read", "export:exp_1"))).toBe("Exported your data (export exp_1)");
    expect(describeEvent(auditEvent("export.read", "export:exp_1:observations/heart_rate"))).toBe(
      "Exported observations/heart_rate (export exp_1)",
    );
    expect(describeEvent(auditEvent("export.download", "export:exp_1"))).toBe("Downloaded an export archive (export exp_1)");
  });

  it("names an upload, and still words an action it does not know", () => {
    expect(describeEvent(auditEvent("upload.create", "upload:upl_1"))).toBe("Uploaded a file (upload upl_1)");
    expect(describeEvent(auditEvent("thing.poke", "thing:x"))).toBe("Performed thing.poke on thing");
  });
});
