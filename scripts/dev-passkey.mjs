// A software passkey kept in a file, for driving a local Pulse from the command line
// (dev:signup --save, dev:signin, dev:delete-account). DEVELOPMENT ONLY: the file holds the
// passkey's private key in the clear, so anyone who can read it can sign in as that account. It is
// written with mode 0600 and never meant for a real account.
import { readFileSync, writeFileSync } from "node:fs";
import { SoftwareAuthenticator } from "../test/worker/helpers/authenticator.ts";

export { SoftwareAuthenticator };

/** A JSON POST to Pulse as a browser on `url`'s origin would send it; throws with the problem's detail. */
export async function post(url, path, body, token) {
  const headers = { Origin: new URL(url).origin };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(new URL(path, url), {
    method: "POST",
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const payload = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = new Error(`${path} answered ${res.status}: ${payload.detail ?? JSON.stringify(payload)}`);
    error.status = res.status;
    throw error;
  }
  return payload;
}

/** Writes the credential (mode 0600, created fresh or overwritten) after each use of it. */
export async function saveCredential(file, authenticator) {
  writeFileSync(file, `${JSON.stringify(await authenticator.saveCredential(), null, 2)}\n`, { mode: 0o600 });
}

export async function loadCredential(file) {
  let saved;
  try {
    saved = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`cannot read the saved passkey ${file}: ${error.message}`);
  }
  return SoftwareAuthenticator.restore(saved);
}

/**
 * The sign-in ceremony with the saved passkey (login/options → assertion → login/verify). The
 * signature counter moved on, so the file is rewritten before the answer is looked at: a refused
 * sign-in still used the counter.
 */
export async function signIn(url, authenticator, file) {
  const { flowId, options } = await post(url, "/v1/auth/login/options", {});
  const response = await authenticator.authenticate(options);
  await saveCredential(file, authenticator);
  return post(url, "/v1/auth/login/verify", { flowId, response });
}

/** Reads `--name value` options (each at most once) into an object; anything else is a usage error. */
export function parseOptions(argv, names, usage) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith("--") ? argv[i].slice(2) : undefined;
    const value = argv[i + 1];
    if (!name || !names.includes(name) || value === undefined || value.startsWith("--") || name in options) {
      throw new Error(`usage: ${usage} (unexpected ${argv[i]})`);
    }
    options[name] = value;
    i++;
  }
  return options;
}
