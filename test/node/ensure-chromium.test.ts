import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chromiumPath, DEBIAN_CHROMIUM, decideChromium, type Host } from "../../scripts/ensure-chromium.mjs";

/** A machine described by its answers; a question the decision must not ask throws. */
function host(overrides: Partial<Host> & { executables?: string[] }): Host {
  const executables = new Set(overrides.executables ?? []);
  return {
    env: {},
    isRoot: false,
    isExecutable: (path) => executables.has(path),
    hasAptGet: () => true,
    canSudoWithoutPassword: () => {
      throw new Error("sudo must not be probed here");
    },
    ...overrides,
  };
}

describe("which Chromium the browser tests use", () => {
  it("takes CHROMIUM_PATH when it is set, else Debian's package path", () => {
    expect(chromiumPath({ CHROMIUM_PATH: "/opt/chrome/chrome" })).toBe("/opt/chrome/chrome");
    expect(chromiumPath({})).toBe("/usr/bin/chromium");
    expect(chromiumPath({ CHROMIUM_PATH: "" })).toBe("/usr/bin/chromium");
  });
});

describe("decideChromium", () => {
  const unasked = () => {
    throw new Error("apt must not be asked about when Chromium is there");
  };

  it("uses CHROMIUM_PATH when it points at an executable, without looking at apt", () => {
    const decision = decideChromium(
      host({ env: { CHROMIUM_PATH: "/opt/chrome/chrome" }, executables: ["/opt/chrome/chrome"], hasAptGet: unasked }),
    );
    expect(decision).toEqual({ action: "use", path: "/opt/chrome/chrome" });
  });

  it("refuses a CHROMIUM_PATH that is not executable rather than falling back to another browser", () => {
    const decision = decideChromium(host({ env: { CHROMIUM_PATH: "/opt/nope" }, executables: [DEBIAN_CHROMIUM], isRoot: true }));
    expect(decision.action).toBe("fail");
    if (decision.action === "fail") expect(decision.message).toContain("CHROMIUM_PATH=/opt/nope is not an executable");
  });

  it("uses /usr/bin/chromium when it is installed", () => {
    expect(decideChromium(host({ executables: [DEBIAN_CHROMIUM], hasAptGet: unasked }))).toEqual({
      action: "use",
      path: DEBIAN_CHROMIUM,
    });
  });

  it("installs Debian's chromium with apt, non-interactively, when missing and running as root", () => {
    const decision = decideChromium(host({ isRoot: true }));
    expect(decision.action).toBe("install");
    if (decision.action !== "install") return;
    expect(decision.path).toBe(DEBIAN_CHROMIUM);
    expect(decision.commands.map((command) => command.slice(0, 1).concat(command.slice(-3)))).toEqual([
      ["apt-get", "-o", "DPkg::Lock::Timeout=300", "update"],
      ["apt-get", "install", "-y", "chromium"],
    ]);
  });

  it("fails at once with one line naming the install command when missing and not root", () => {
    const decision = decideChromium(host({ isRoot: false }));
    expect(decision.action).toBe("fail");
    if (decision.action !== "fail") return;
    expect(decision.message).toContain("`sudo apt-get install -y chromium`");
    expect(decision.message).not.toContain("\n");
  });

  it("in CI, installs through password-less sudo, and fails with the command when sudo wants a password", () => {
    const withSudo = decideChromium(host({ env: { CI: "true" }, canSudoWithoutPassword: () => true }));
    expect(withSudo.action).toBe("install");
    if (withSudo.action === "install") {
      expect(withSudo.commands.every((command) => command[0] === "sudo" && command[1] === "-n")).toBe(true);
    }
    const withoutSudo = decideChromium(host({ env: { CI: "true" }, canSudoWithoutPassword: () => false }));
    expect(withoutSudo.action).toBe("fail");
    if (withoutSudo.action === "fail") expect(withoutSudo.message).toContain("sudo apt-get install -y chromium");
  });

  it("asks for CHROMIUM_PATH on a machine without apt", () => {
    const decision = decideChromium(host({ isRoot: true, hasAptGet: () => false }));
    expect(decision.action).toBe("fail");
    if (decision.action === "fail") expect(decision.message).toMatch(/apt-get is not available.*CHROMIUM_PATH/);
  });
});

describe("scripts/ensure-chromium.mjs as npm test runs it", () => {
  const dir = mkdtempSync(join(tmpdir(), "pulse-chromium-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(env: Record<string, string>) {
    return spawnSync(process.execPath, ["scripts/ensure-chromium.mjs"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", ...env },
      timeout: 30_000,
    });
  }

  it("runs the browser named by CHROMIUM_PATH and reports its version", () => {
    const fake = join(dir, "chromium");
    writeFileSync(fake, "#!/bin/sh\necho 'Chromium 999.0.0.0 stand-in'\n");
    chmodSync(fake, 0o755);
    const result = run({ CHROMIUM_PATH: fake });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`ensure-chromium: Chromium 999.0.0.0 stand-in at ${fake}\n`);
  });

  it("exits 1 with a single line when the configured browser does not exist", () => {
    const result = run({ CHROMIUM_PATH: join(dir, "missing") });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(`CHROMIUM_PATH=${join(dir, "missing")} is not an executable`);
  });

  it("exits 1 when the browser is there but does not run", () => {
    const broken = join(dir, "broken");
    writeFileSync(broken, "#!/bin/sh\necho 'error while loading shared libraries' >&2\nexit 127\n");
    chmodSync(broken, 0o755);
    const result = run({ CHROMIUM_PATH: broken });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${broken} does not run`);
  });
});
