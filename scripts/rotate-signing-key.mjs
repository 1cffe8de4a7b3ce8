#!/usr/bin/env node
// Rotates the ES256 access-token signing key without signing anyone out (DESIGN §4).
//
//   npm run keys:rotate                      # local: rewrites JWT_SIGNING_KEYS in .dev.vars
//   npm run keys:rotate -- --file keys.json  # production: reads the current key set (a JSON array kept
//                                            # in your secret manager), prints the new set to stdout:
//   npm run -s keys:rotate -- --file keys.json > new.json && npx wrangler secret put JWT_SIGNING_KEYS --env production < new.json
//
// The new key is put first (it signs from now on); the previous signer is kept, marked `retiredAt`,
// so tokens it signed keep verifying and stay published in /.well-known/jwks.json. Keys retired more
// than RETAIN_MS ago are dropped: every token they signed has expired (access tokens live 15 min).
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { generateSigningKey, parseDevVars } from "./dev-vars.mjs";

const RETAIN_MS = 60 * 60 * 1000;

export async function rotateKeySet(keys, now = new Date()) {
  if (!Array.isArray(keys) || keys.length === 0) throw new Error("the current key set must be a non-empty JSON array");
  const retired = keys.map((key, index) => (index === 0 && !key.retiredAt ? { ...key, retiredAt: now.toISOString() } : key));
  const kept = retired.filter((key) => !key.retiredAt || now.getTime() - Date.parse(key.retiredAt) < RETAIN_MS);
  const stamp = now
    .toISOString()
    .replace(/[-:.TZ]/g, "")
    .slice(0, 14);
  const fresh = await generateSigningKey(`key-${stamp}-${randomBytes(3).toString("hex")}`);
  return [fresh, ...kept];
}

async function main(args) {
  const fileIndex = args.indexOf("--file");
  if (fileIndex >= 0) {
    const file = args[fileIndex + 1];
    if (!file) throw new Error("--file needs a path");
    process.stdout.write(`${JSON.stringify(await rotateKeySet(JSON.parse(readFileSync(file, "utf8"))))}\n`);
    return;
  }
  const devVars = resolve(process.cwd(), ".dev.vars");
  const text = readFileSync(devVars, "utf8");
  const current = parseDevVars(text).JWT_SIGNING_KEYS;
  if (!current) throw new Error(".dev.vars has no JWT_SIGNING_KEYS; run `npm run dev` once first");
  const next = await rotateKeySet(JSON.parse(current));
  const replaced = text.replace(/^JWT_SIGNING_KEYS=.*$/m, `JWT_SIGNING_KEYS=${JSON.stringify(next)}`);
  writeFileSync(devVars, replaced, { mode: 0o600 });
  console.error(`rotated: ${next[0].kid} signs now; verifying keys: ${next.map((key) => key.kid).join(", ")}`);
  console.error("restart `npm run dev` to load it");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
