/**
 * What production refuses (DESIGN §4: "production origins and RP ID come from configuration"):
 * local or plain-http origins and issuer, an RP ID that is not a domain of the issuer, and the
 * REPLACE_ME placeholders of `[env.production]` in wrangler.toml. Shared by the Worker's startup
 * check (./config.ts) and the deploy check (scripts/deploy.mjs, which runs this file with Node's
 * type stripping), so the two cannot disagree. Plain functions over raw strings, no imports.
 */

/** Marks the values an operator must replace in `[env.production]` before the first deploy. */
export const PLACEHOLDER_MARKER = "REPLACE_ME";

export const LOCAL_HOST = /^(localhost|.*\.localhost|127(\.\d{1,3}){3}|0\.0\.0\.0|\[::1?\])$/i;

/** Why `url` cannot serve production users, or undefined when it can. */
function productionUrlProblem(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const { protocol, hostname } = new URL(url);
  if (LOCAL_HOST.test(hostname)) return `must not be a local address in production (${url})`;
  if (protocol !== "https:") return `must use https in production (${url})`;
  return undefined;
}

export interface ConfigProblem {
  name: string;
  text: string;
}

/**
 * What makes `env` unfit for production, read from the raw strings so every problem is reported in
 * the same pass as the shape checks (a zod refinement would wait until the shape is right).
 */
export function productionProblems(env: Record<string, unknown>): ConfigProblem[] {
  if (env.ENVIRONMENT !== "production") return [];
  const problems: ConfigProblem[] = [];
  const problem = (name: string, reason: string) => problems.push({ name, text: `${name} ${reason}` });
  const text = (name: string) => (typeof env[name] === "string" ? env[name] : "");
  for (const name of ["CORS_ORIGINS", "RP_ID", "RP_NAME", "JWT_ISSUER", "JWT_AUDIENCE"]) {
    if (text(name).includes(PLACEHOLDER_MARKER)) problem(name, `still holds the ${PLACEHOLDER_MARKER} placeholder`);
  }
  for (const origin of text("CORS_ORIGINS")
    .split(",")
    .map((part) => part.trim())) {
    const reason = origin === "" ? undefined : productionUrlProblem(origin);
    if (reason !== undefined) problem("CORS_ORIGINS", reason);
  }
  // The sandbox provider is a local fake with an unauthenticated control API (tools/sandbox-provider).
  if (text("ENABLE_SANDBOX_PROVIDER") === "true") problem("ENABLE_SANDBOX_PROVIDER", "must be false in production");
  const issuer = text("JWT_ISSUER");
  const issuerProblem = productionUrlProblem(issuer);
  if (issuerProblem !== undefined) problem("JWT_ISSUER", issuerProblem);
  const rpId = text("RP_ID");
  if (LOCAL_HOST.test(rpId) || /^[\d.]+$/.test(rpId) || rpId.includes(":")) {
    problem("RP_ID", `must be a domain name in production, not ${rpId}`);
  } else if (rpId !== "" && URL.canParse(issuer) && !`${rpId}${issuer}`.includes(PLACEHOLDER_MARKER)) {
    // WebAuthn L3 §5.1.2: the RP ID is the page's host or a registrable suffix of it, and the
    // web app (/app) runs its ceremonies on the origin of JWT_ISSUER.
    const host = new URL(issuer).hostname;
    const domain = rpId.toLowerCase();
    if (host !== domain && !host.endsWith(`.${domain}`))
      problem("RP_ID", `must be ${host} or a parent domain of it (the host of JWT_ISSUER)`);
  }
  return problems;
}
