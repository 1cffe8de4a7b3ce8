/**
 * The pages people see while connecting a provider: the confirmation page (which Pulse account,
 * which provider) and the outcome pages of the callback. Static markup with every dynamic value
 * escaped; no script, their own stylesheet (./page-style.ts), and a CSP that lets the confirmation
 * form go only to Pulse and, through the 303 that follows it, to the provider (CSP3 `form-action`
 * is enforced on redirects). No health data and no token ever appear here.
 */
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/** The strict CSP of these pages; `formTarget` is the provider's origin the confirmation leads to. */
export function pageCsp(formTarget?: string): string {
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    `form-action 'self'${formTarget ? ` ${formTarget}` : ""}`,
    "frame-ancestors 'none'",
  ].join("; ");
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>Pulse · ${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/oauth/style.css">
</head>
<body>
<main class="page">
<header class="brand"><h1>Pulse</h1></header>
${body}
</main>
</body>
</html>
`;
}

export interface ConfirmPageInput {
  providerDisplayName: string;
  accountDisplayName: string;
  accountUsername: string;
  /** The form's own path, `/oauth/<provider>/connect`. */
  action: string;
  flow: string;
}

export function confirmPage(input: ConfirmPageInput): string {
  const provider = escapeHtml(input.providerDisplayName);
  return layout(
    `Connect ${input.providerDisplayName}`,
    `<section class="card" aria-labelledby="title">
<h2 id="title">Connect ${provider} to your Pulse account?</h2>
<dl class="facts">
<dt>Pulse account</dt><dd>${escapeHtml(input.accountDisplayName)} (${escapeHtml(input.accountUsername)})</dd>
<dt>Provider</dt><dd>${provider}</dd>
</dl>
<p>${provider} will ask you to sign in and to allow Pulse to read your data there. Pulse will then copy it into
the account above. If this is not your Pulse account, or you did not start this, choose Cancel.</p>
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="flow" value="${escapeHtml(input.flow)}">
<div class="actions">
<button type="submit" name="decision" value="continue">Continue to ${provider}</button>
<button type="submit" name="decision" value="cancel" class="secondary">Cancel</button>
</div>
</form>
</section>`,
  );
}

export interface MessagePageInput {
  title: string;
  message: string;
  /** What to do next, a sentence. */
  next: string;
  link?: { href: string; text: string } | undefined;
}

export function messagePage(input: MessagePageInput): string {
  const link = input.link ? `<p><a href="${escapeHtml(input.link.href)}">${escapeHtml(input.link.text)}</a></p>` : "";
  return layout(
    input.title,
    `<section class="card" aria-labelledby="title">
<h2 id="title">${escapeHtml(input.title)}</h2>
<p>${escapeHtml(input.message)}</p>
<p class="hint">${escapeHtml(input.next)}</p>
${link}
</section>`,
  );
}
