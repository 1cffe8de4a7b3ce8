#!/usr/bin/env node
// `npm run deploy [-- --dry-run]`: deploys `[env.production]` of wrangler.toml, and refuses while
// anything a production Worker needs is missing or still a development value.
//
// The Worker itself refuses development values at startup (src/config/config.ts), but only once
// deployed, and then every request answers 500: checking before uploading names the problems
// while nothing has changed yet. What is checked (README "Deploying"):
//  - the vars: ENVIRONMENT=production, the same rules as the Worker (src/config/production.ts: no
//    REPLACE_ME placeholder, no localhost or plain-http origin or issuer, RP ID a domain of the issuer);
//  - the bindings, which wrangler environments do not inherit: the D1 id is a real one, R2, the
//    queues with their dead-letter queues and the Durable Objects are all declared;
//  - the secrets: none of them in plain vars, and every one set on the deployed Worker (`wrangler
//    secret list`). `--dry-run` does not reach Cloudflare, so it cannot see the secrets; it says so,
//    and then builds the bundle with `wrangler deploy --dry-run` without uploading it.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_HOST, PLACEHOLDER_MARKER, productionProblems } from "../src/config/production.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// Run with this very Node: wrangler needs Node >= 22.12 and the system one may be older (DESIGN §2).
const wrangler = resolve(root, "node_modules/wrangler/bin/wrangler.js");
export const ENV_NAME = "production";

/** Secrets every production Worker needs (src/config/config.ts); generate them with `npm run secrets:generate`. */
export const REQUIRED_SECRETS = ["JWT_SIGNING_KEYS", "TOKEN_ENCRYPTION_KEYS", "AUDIT_PSEUDONYM_KEY"];
/** Needed only with confidential AI (ENCLAVE_BRIDGE_URL set; src/ai/config.ts). */
export const AI_SECRETS = ["ENCLAVE_BRIDGE_TOKEN"];
/** Checked for placeholders by productionProblems already. */
const ORIGIN_VARS = ["CORS_ORIGINS", "RP_ID", "RP_NAME", "JWT_ISSUER", "JWT_AUDIENCE"];
const REQUIRED_VARS = ["ENVIRONMENT", "CORS_ORIGINS", "RP_ID", "RP_NAME", "JWT_ISSUER", "JWT_AUDIENCE", "MAX_JSON_BODY_BYTES"];
const DEVELOPMENT_D1_ID = "00000000-0000-4000-8000-000000000000";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PCR = /^[0-9a-fA-F]{96}$/;
const PCR_NAMES = ["ENCLAVE_PCR0", "ENCLAVE_PCR1", "ENCLAVE_PCR2"];
const QUEUES = [
  { binding: "INGEST", queue: "pulse-ingest", dlq: "pulse-ingest-dlq" },
  { binding: "SYNC", queue: "pulse-sync", dlq: "pulse-sync-dlq" },
  { binding: "WEBHOOKS", queue: "pulse-webhooks", dlq: "pulse-webhooks-dlq" },
];
const DURABLE_OBJECTS = ["HEALTH_STORE", "RATE_LIMITER", "OAUTH_STATE"];

/** The resolved `--env production` configuration, as wrangler itself reads it. */
export async function readProductionConfig(configPath = resolve(root, "wrangler.toml")) {
  const { unstable_readConfig } = await import("wrangler");
  return unstable_readConfig({ config: configPath, env: ENV_NAME }, { hideWarnings: true });
}

/**
 * The decision: every reason not to deploy `config` (a resolved wrangler configuration), and what
 * could not be checked. `secretNames` lists the secrets set on the deployed Worker, or is null when
 * they could not be read (dry run).
 */
export function deployProblems(config, secretNames) {
  const problems = [];
  const vars = config.vars ?? {};
  const text = (name) => (typeof vars[name] === "string" ? vars[name] : "");

  for (const name of REQUIRED_VARS) if (text(name).trim() === "") problems.push(`${name} is missing from [env.${ENV_NAME}.vars]`);
  if (text("ENVIRONMENT") !== "" && text("ENVIRONMENT") !== "production")
    problems.push(`ENVIRONMENT is "${text("ENVIRONMENT")}"; it must be "production"`);
  problems.push(...productionProblems({ ...vars, ENVIRONMENT: "production" }).map((problem) => problem.text));

  const aiEnabled = text("ENCLAVE_BRIDGE_URL") !== "";
  if (aiEnabled) {
    const url = text("ENCLAVE_BRIDGE_URL");
    if (!URL.canParse(url) || new URL(url).protocol !== "https:" || LOCAL_HOST.test(new URL(url).hostname))
      problems.push(`ENCLAVE_BRIDGE_URL must be the enclave proxy's public https URL, not ${url}`);
    for (const name of PCR_NAMES) {
      // PCRs may be kept as secrets instead (docs/enclave-deployment.md §4); then only their presence is checked.
      if (!(name in vars)) continue;
      if (!PCR.test(text(name))) problems.push(`${name} must be the enclave image's measurement (96 hex digits)`);
      else if (/^0+$/.test(text(name))) problems.push(`${name} is all zeros: a debug-mode enclave`);
    }
    // Production accepts only the AWS Nitro root G1, which is the default (src/ai/config.ts).
    for (const name of ["ENCLAVE_ROOT_CERTIFICATE", "ENCLAVE_ROOT_SHA256"])
      if (text(name) !== "") problems.push(`${name} must not be set in production (the AWS Nitro root G1 is the default)`);
  }
  for (const [name, value] of Object.entries(vars)) {
    if (!ORIGIN_VARS.includes(name) && String(value).includes(PLACEHOLDER_MARKER))
      problems.push(`${name} still holds the ${PLACEHOLDER_MARKER} placeholder`);
  }

  const secrets = [...REQUIRED_SECRETS, ...(aiEnabled ? [...AI_SECRETS, ...PCR_NAMES.filter((name) => !(name in vars))] : [])];
  for (const name of [...REQUIRED_SECRETS, ...AI_SECRETS])
    if (name in vars)
      problems.push(`${name} is a secret: remove it from [vars] and use \`wrangler secret put ${name} --env ${ENV_NAME}\``);

  const d1 = (config.d1_databases ?? []).find((database) => database.binding === "DB");
  if (d1 === undefined) problems.push(`D1 binding DB is missing from [[env.${ENV_NAME}.d1_databases]]`);
  else if (!UUID.test(d1.database_id ?? "") || d1.database_id === DEVELOPMENT_D1_ID)
    problems.push(
      `D1 database_id is "${d1.database_id ?? ""}"; set the id printed by \`wrangler d1 create ${d1.database_name}\``,
    );
  if (!(config.r2_buckets ?? []).some((bucket) => bucket.binding === "LAKE" && bucket.bucket_name))
    problems.push(`R2 binding LAKE is missing from [[env.${ENV_NAME}.r2_buckets]]`);
  const producers = config.queues?.producers ?? [];
  const consumers = config.queues?.consumers ?? [];
  for (const { binding, queue, dlq } of QUEUES) {
    if (!producers.some((producer) => producer.binding === binding))
      problems.push(`queue producer ${binding} is missing from [[env.${ENV_NAME}.queues.producers]]`);
    if (!consumers.some((consumer) => consumer.queue === queue && consumer.dead_letter_queue === dlq))
      problems.push(`queue consumer ${queue} with dead_letter_queue ${dlq} is missing from [[env.${ENV_NAME}.queues.consumers]]`);
    if (!consumers.some((consumer) => consumer.queue === dlq))
      problems.push(`dead-letter queue consumer ${dlq} is missing from [[env.${ENV_NAME}.queues.consumers]]`);
  }
  const objects = config.durable_objects?.bindings ?? [];
  for (const name of DURABLE_OBJECTS)
    if (!objects.some((binding) => binding.name === name))
      problems.push(`Durable Object binding ${name} is missing from [[env.${ENV_NAME}.durable_objects.bindings]]`);

  const unchecked = [];
  if (secretNames === null) unchecked.push(`secrets ${secrets.join(", ")} (not visible without reaching Cloudflare)`);
  else
    for (const name of secrets)
      if (!secretNames.includes(name))
        problems.push(`secret ${name} is not set: \`wrangler secret put ${name} --env ${ENV_NAME}\``);
  return { problems, unchecked };
}

function runWrangler(args, options = {}) {
  return spawnSync(process.execPath, [wrangler, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" },
    ...options,
  });
}

/** Names of the secrets set on the deployed Worker; throws with wrangler's message when it cannot tell. */
function deployedSecretNames(configPath) {
  const result = runWrangler(["secret", "list", "--env", ENV_NAME, "--config", configPath, "--format", "json"]);
  try {
    const listed = JSON.parse(result.stdout);
    if (result.status === 0 && Array.isArray(listed)) return listed.map((secret) => secret.name);
  } catch {
    // Reported below with wrangler's own output.
  }
  throw new Error(
    `could not list the secrets of the ${ENV_NAME} Worker (\`wrangler login\` first; on a first deploy, \`wrangler secret put NAME --env ${ENV_NAME}\` creates the Worker):\n${(result.stderr || result.stdout).trim()}`,
  );
}

function parseArgs(argv) {
  const options = { dryRun: false, config: resolve(root, "wrangler.toml") };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--dry-run") options.dryRun = true;
    else if (argv[i] === "--config" && argv[i + 1] !== undefined) options.config = resolve(argv[++i]);
    else {
      console.error(`unknown argument ${argv[i]}\nusage: npm run deploy [-- --dry-run] [--config wrangler.toml]`);
      process.exit(2);
    }
  }
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const config = await readProductionConfig(options.config);
  let secrets = null;
  const early = [];
  if (!options.dryRun) {
    try {
      secrets = deployedSecretNames(options.config);
    } catch (error) {
      early.push(error.message);
    }
  }
  const { problems, unchecked } = deployProblems(config, secrets);
  const all = [...problems, ...early];
  if (all.length > 0) {
    console.error(`Refusing to deploy --env ${ENV_NAME} (${options.config}):`);
    for (const problem of all) console.error(`  - ${problem}`);
    for (const item of unchecked) console.error(`  (not checked: ${item})`);
    console.error('Steps: README "Deploying".');
    process.exit(1);
  }
  for (const item of unchecked) console.log(`not checked: ${item}`);
  // The web app ships as the Worker's static assets (dist/web): built fresh for every deploy.
  const web = spawnSync(process.execPath, [resolve(root, "scripts/build-web.mjs")], { cwd: root, stdio: "inherit" });
  if (web.status !== 0) process.exit(web.status ?? 1);
  const args = ["deploy", "--env", ENV_NAME, "--config", options.config];
  if (options.dryRun) args.push("--dry-run", "--outdir", resolve(root, ".wrangler/deploy-dry-run"));
  const result = runWrangler(args, { stdio: "inherit" });
  process.exit(result.status ?? 1);
}

if (import.meta.main) await main();
