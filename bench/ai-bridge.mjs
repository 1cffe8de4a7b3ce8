// The enclave-bridge for the ai bench (./ai.mjs): the enclave (simulated NSM, built-in analyst) and
// its parent proxy as child processes, started with the same CLI commands and pins as
// `npm run dev` (scripts/dev.mjs), and the ENCLAVE_* bindings that point a Worker at them.
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../scripts/free-port.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BRIDGE_START_TIMEOUT_MS = 20_000;

const bridgeChildren = new Set();

/** Stops the bridge's processes synchronously: usable from run.mjs's `exit` listener. */
export function stopAiBridge() {
  for (const child of bridgeChildren) child.kill("SIGTERM");
  bridgeChildren.clear();
}

/**
 * Runs `node enclave-bridge/src/cli.ts <args>` and resolves once it logs `<command>.listening`. Its
 * JSON log lines (kind, outcome and duration only, never content) go to `onLog`.
 */
function startBridgeProcess(args, env, onLog) {
  const cli = join(root, "enclave-bridge", "src", "cli.ts");
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  bridgeChildren.add(child);
  child.on("exit", () => bridgeChildren.delete(child));
  let errors = "";
  child.stderr.on("data", (chunk) => {
    errors = `${errors}${chunk}`.slice(-2_000);
  });
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`enclave-bridge ${args[0]} did not start: ${errors}`)),
      BRIDGE_START_TIMEOUT_MS,
    );
    let pending = "";
    child.stdout.on("data", (chunk) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        let event;
        try {
          event = JSON.parse(line);
        } catch {
          continue;
        }
        if (event.event === `${args[0]}.listening`) {
          clearTimeout(timer);
          resolveStart(child);
        } else onLog(event);
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`enclave-bridge ${args[0]} stopped (${signal ?? code}): ${errors}`));
    });
  });
}

/** The enclave (simulated NSM, built-in analyst) and its proxy, and the bindings that pin them. */
export async function startBridge(workDir) {
  const stateDir = join(workDir, "enclave-bridge");
  const { developmentEnclave } = await import("../enclave-bridge/src/dev.ts");
  const identity = await developmentEnclave(stateDir);
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  const enclavePort = await freePort();
  const proxyPort = await freePort();
  // What the bridge logs per request (whole milliseconds), and any refusal.
  const logged = { attest: [], query: [], proxy: [], failed: 0 };
  const onLog = (event) => {
    if (event.event === "enclave.request") {
      logged[event.kind]?.push(event.ms);
      if (event.outcome !== "ok") logged.failed += 1;
    } else if (event.event === "proxy.request") {
      logged.proxy.push(event.ms);
      if (event.status !== 200) logged.failed += 1;
    }
  };
  await startBridgeProcess(
    ["enclave", "--listen", `127.0.0.1:${enclavePort}`, "--nsm", "simulated", "--state-dir", stateDir],
    {},
    onLog,
  );
  await startBridgeProcess(
    ["proxy", "--listen", `127.0.0.1:${proxyPort}`, "--enclave", `tcp://127.0.0.1:${enclavePort}`],
    { BRIDGE_TOKEN: token },
    onLog,
  );
  return {
    logged,
    bindings: {
      ENCLAVE_BRIDGE_URL: `http://127.0.0.1:${proxyPort}`,
      ENCLAVE_BRIDGE_TOKEN: token,
      ENCLAVE_PCR0: identity.pcrs[0],
      ENCLAVE_PCR1: identity.pcrs[1],
      ENCLAVE_PCR2: identity.pcrs[2],
      ENCLAVE_ROOT_CERTIFICATE: identity.rootPem.replace(/-----[A-Z ]+-----|\s/g, ""),
      ENCLAVE_ROOT_SHA256: identity.rootSha256,
    },
  };
}
