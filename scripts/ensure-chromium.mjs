// The browser tests drive the system Chromium through playwright-core, which downloads no browser.
// This is the first step of `npm test` and of `.ci/run`, so that a machine without one learns it in
// seconds (or gets it installed) instead of after minutes of type checking and workerd tests.
//
// Which Chromium: `CHROMIUM_PATH` when set, else Debian's `chromium` package at /usr/bin/chromium.
// When that is missing, root installs the package with apt (as a CI runner or a fresh container
// is); CI runs as a user with password-less sudo do the same through `sudo -n`. Anyone else gets one
// line naming the command to run: `npm test` never asks for a password or installs system packages
// behind a developer's back.
//
// Runs on the machine's own Node (20 or later): `.ci/run` calls it before `npm install` brings the
// project's Node 24.
import { spawnSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { pathToFileURL } from "node:url";

export const DEBIAN_CHROMIUM = "/usr/bin/chromium";
export const INSTALL_COMMAND = "sudo apt-get install -y chromium";

/**
 * The Chromium the browser tests launch (test/browser/chromium.ts): the one place that decides it.
 * @param {Record<string, string | undefined>} env
 * @returns {string}
 */
export function chromiumPath(env = process.env) {
  return env.CHROMIUM_PATH || DEBIAN_CHROMIUM;
}

/**
 * What the machine looks like, asked lazily so the common case (Chromium present) runs no command.
 * @typedef {object} Host
 * @property {Record<string, string | undefined>} env
 * @property {boolean} isRoot
 * @property {(path: string) => boolean} isExecutable
 * @property {() => boolean} hasAptGet
 * @property {() => boolean} canSudoWithoutPassword
 */

/**
 * @typedef {{ action: "use", path: string }
 *   | { action: "install", path: string, commands: string[][] }
 *   | { action: "fail", message: string }} Decision
 */

/**
 * @param {Host} host
 * @returns {Decision}
 */
export function decideChromium(host) {
  const configured = host.env.CHROMIUM_PATH;
  if (configured) {
    if (host.isExecutable(configured)) return { action: "use", path: configured };
    return {
      action: "fail",
      message: `CHROMIUM_PATH=${configured} is not an executable file: point it at a Chromium binary, or unset it to use ${DEBIAN_CHROMIUM}`,
    };
  }
  if (host.isExecutable(DEBIAN_CHROMIUM)) return { action: "use", path: DEBIAN_CHROMIUM };
  const missing = `Chromium is missing (${DEBIAN_CHROMIUM}; the browser tests need it)`;
  if (!host.hasAptGet()) {
    return { action: "fail", message: `${missing} and apt-get is not available: install Chromium and set CHROMIUM_PATH to it` };
  }
  const ci = Boolean(host.env.CI) && host.env.CI !== "false";
  const prefix = host.isRoot ? [] : ci && host.canSudoWithoutPassword() ? ["sudo", "-n"] : undefined;
  if (!prefix) {
    return { action: "fail", message: `${missing}: run \`${INSTALL_COMMAND}\` (or set CHROMIUM_PATH), then npm test again` };
  }
  // Waiting for the dpkg lock rather than failing: another apt run (unattended upgrades, a second
  // job on the same runner) commonly holds it for a few seconds.
  const apt = [...prefix, "apt-get", "-q", "-o", "DPkg::Lock::Timeout=300"];
  return {
    action: "install",
    path: DEBIAN_CHROMIUM,
    commands: [
      [...apt, "update"],
      [...apt, "install", "-y", "chromium"],
    ],
  };
}

/** @param {string} path */
function isExecutableFile(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * @param {string} command
 * @param {string[]} args
 */
function succeeds(command, args) {
  return spawnSync(command, args, { stdio: "ignore", timeout: 10_000 }).status === 0;
}

/** @returns {Host} */
export function currentHost() {
  return {
    env: process.env,
    isRoot: typeof process.getuid === "function" && process.getuid() === 0,
    isExecutable: isExecutableFile,
    hasAptGet: () => succeeds("apt-get", ["--version"]),
    canSudoWithoutPassword: () => succeeds("sudo", ["-n", "true"]),
  };
}

/**
 * The binary runs and says what it is: a package with a missing library fails here, not in the
 * middle of the browser suite.
 * @param {string} path
 * @returns {string | undefined}
 */
function chromiumVersion(path) {
  const result = spawnSync(path, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** @param {string} message */
function fail(message) {
  process.stderr.write(`ensure-chromium: ${message}\n`);
  process.exit(1);
}

function main() {
  const decision = decideChromium(currentHost());
  if (decision.action === "fail") return fail(decision.message);
  if (decision.action === "install") {
    for (const [command = "apt-get", ...args] of decision.commands) {
      console.log(`ensure-chromium: ${[command, ...args].join(" ")}`);
      const result = spawnSync(command, args, {
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
      if (result.status !== 0) return fail(`\`${[command, ...args].join(" ")}\` failed (exit ${result.status ?? result.signal})`);
    }
    if (!isExecutableFile(decision.path)) return fail(`apt installed chromium but ${decision.path} is still missing`);
  }
  const version = chromiumVersion(decision.path);
  if (!version) return fail(`${decision.path} does not run (\`${decision.path} --version\` failed)`);
  console.log(`ensure-chromium: ${version} at ${decision.path}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
