/**
 * The /docs shell. It carries no inline script or style (the CSP forbids both); the icon is an
 * empty data: URL so the browser does not ask for /favicon.ico.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Pulse API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/style.css">
<script src="/docs/app.js" defer></script>
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<div class="layout">
<nav id="index" class="index" aria-label="API index"></nav>
<main id="content" class="content" aria-busy="true">
<p class="loading">Loading the API description…</p>
<noscript><p>This page needs JavaScript. The raw description is at <a href="/openapi.json">/openapi.json</a>.</p></noscript>
</main>
</div>
</body>
</html>
`;
