/**
 * The /portal shell: static markup only. Everything that depends on the server (the account, the
 * recovery codes, problem details) is filled in by /portal/app.js through `textContent`, and the
 * CSP (script-src/style-src 'self') rules out inline script and style.
 */
export const PORTAL_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Pulse · Sign in</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/portal/style.css">
<script src="/portal/app.js" defer></script>
</head>
<body>
<main class="portal">
<header class="brand">
<h1>Pulse</h1>
<p>Your health data, behind a passkey. No passwords.</p>
</header>
<p id="status" class="status" role="status" aria-live="polite"></p>
<p id="problem" class="problem" role="alert" hidden></p>
<noscript><p class="problem">This page needs JavaScript to talk to your passkey.</p></noscript>

<section id="signed-out" class="panels" aria-label="Sign in or create an account">
<form id="register-form" class="card" aria-labelledby="register-title">
<h2 id="register-title">Create an account</h2>
<label for="register-username">Username</label>
<input id="register-username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required>
<label for="register-display-name">Display name <span class="optional">(optional)</span></label>
<input id="register-display-name" name="displayName" autocomplete="name" maxlength="128">
<div class="actions"><button type="submit">Sign up with a passkey</button></div>
</form>
<form id="login-form" class="card" aria-labelledby="login-title">
<h2 id="login-title">Sign in</h2>
<label for="login-username">Username <span class="optional">(optional)</span></label>
<input id="login-username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64">
<p class="hint">Leave it empty to pick one of the passkeys saved on this device.</p>
<div class="actions"><button type="submit">Sign in with a passkey</button></div>
</form>
</section>

<section id="signed-in" class="card" aria-labelledby="greeting" hidden>
<h2 id="greeting" tabindex="-1"></h2>
<dl class="facts">
<dt>Role</dt><dd id="account-role"></dd>
<dt>Member since</dt><dd id="account-created"></dd>
</dl>
<section id="recovery" class="recovery" aria-labelledby="recovery-title" hidden>
<h3 id="recovery-title">Save your recovery codes</h3>
<p>They are shown only this once. Each code works one time and lets you add a new passkey if you lose this one.</p>
<ol id="recovery-codes" class="codes"></ol>
<button id="recovery-done" type="button" class="secondary">I have saved them</button>
</section>
<form id="ask-form" class="ask" aria-labelledby="ask-title">
<h3 id="ask-title">Ask about your data</h3>
<p class="hint">Answered inside an attested enclave: Pulse checks the enclave first, then seals your question and only the data it needs to it.</p>
<label for="ask-question">Question</label>
<textarea id="ask-question" name="question" rows="2" maxlength="1000" required placeholder="What was my average resting heart rate last week?"></textarea>
<div class="actions"><button type="submit">Ask</button></div>
<section id="answer" class="answer" aria-labelledby="answer-title" aria-live="polite" hidden>
<h4 id="answer-title">Answer</h4>
<p id="answer-text"></p>
<p id="answer-proof" class="hint"></p>
</section>
</form>
<button id="sign-out" type="button">Sign out</button>
<button id="delete-account" type="button" class="secondary">Delete my account</button>
</section>

<footer class="note">
<p>This demo portal keeps your tokens in this page's memory only, never in storage a script could
read later: reloading the page signs you out. The API reference is at <a href="/docs">/docs</a>.</p>
</footer>
</main>
</body>
</html>
`;
