/**
 * Local development identity for the simulated enclave: a development root kept under the state
 * directory (so the fingerprint the Worker pins survives restarts) and PCRs derived from the
 * enclave's own source, so that — as with a real image — changing the enclave's code changes PCR0.
 * `npm run dev` (scripts/dev.mjs) and the `enclave --nsm simulated` command both use it.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import {
  type CertifiedKey,
  createDevelopmentRoot,
  exportDevelopmentRoot,
  importDevelopmentRoot,
  type StoredDevelopmentRoot,
} from "./nsm/development-pki.ts";
import { SimulatedNsm } from "./nsm/simulated-nsm.ts";

const ROOT_FILE = "development-root.json";
const SOURCE_DIR = resolve(import.meta.dirname);

export interface DevelopmentEnclave {
  readonly nsm: SimulatedNsm;
  readonly imageIdentity: string;
  /** PEM of the development root: what the Worker pins in local mode. */
  readonly rootPem: string;
  readonly rootSha256: string;
  readonly pcrs: { readonly 0: string; readonly 1: string; readonly 2: string };
}

export async function developmentEnclave(stateDir: string, imageIdentity = sourceIdentity()): Promise<DevelopmentEnclave> {
  const root = await loadOrCreateRoot(stateDir);
  const nsm = await SimulatedNsm.create({ imageIdentity, root });
  return {
    nsm,
    imageIdentity,
    rootPem: nsm.developmentRootPem(),
    rootSha256: await nsm.developmentRootSha256(),
    pcrs: await nsm.describePcrs(),
  };
}

/** SHA-384 over the enclave's source files (paths and contents), standing in for the image digest. */
export function sourceIdentity(dir: string = SOURCE_DIR): string {
  const hash = createHash("sha384");
  for (const file of sourceFiles(dir)) {
    hash.update(relative(dir, file));
    hash.update("\0");
    hash.update(readFileSync(file));
  }
  return hash.digest("hex");
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|js)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

async function loadOrCreateRoot(stateDir: string): Promise<CertifiedKey> {
  const path = join(stateDir, ROOT_FILE);
  let stored: StoredDevelopmentRoot | undefined;
  try {
    stored = JSON.parse(readFileSync(path, "utf8")) as StoredDevelopmentRoot;
  } catch {
    stored = undefined;
  }
  // A damaged or nearly expired root is replaced; the Worker is re-pinned on the next start anyway.
  const root = stored === undefined ? null : await importDevelopmentRoot(stored).catch(() => null);
  if (root !== null && root.certificate.notAfter.getTime() > Date.now() + 24 * 3_600_000) return root;
  const fresh = await createDevelopmentRoot(new Date());
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(path, JSON.stringify(await exportDevelopmentRoot(fresh)), { mode: 0o600 });
  return fresh;
}
