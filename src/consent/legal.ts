/**
 * The two documents a person accepts (`/legal/terms`, `/legal/privacy`), served by Pulse itself so
 * the version a consent record names is always readable at the URL `/v1/me/consents` gives.
 *
 * The text ships with the code and its version is `CURRENT_CONSENT_VERSIONS` (./consents.ts):
 * changing a paragraph here means bumping that version, which asks everyone to accept again
 * before they can share. Plain product text describing what Pulse does, not legal advice.
 */
import type { ConsentDocument } from "../db/schema";
import { CURRENT_CONSENT_VERSIONS } from "./consents";

export function legalDocumentPath(document: ConsentDocument): string {
  return `/legal/${document}`;
}

interface LegalDocument {
  title: string;
  sections: ReadonlyArray<{ heading: string; paragraphs: readonly string[] }>;
}

const DOCUMENTS: Record<ConsentDocument, LegalDocument> = {
  terms: {
    title: "Pulse terms of service",
    sections: [
      {
        heading: "What Pulse is",
        paragraphs: [
          "Pulse keeps the health data you send it: Health Connect exports you upload and data from the wearables and glucose sensors you connect. It normalizes that data, summarizes it, answers questions about it and lets you share it with people you choose.",
          "Pulse is a record-keeping and sharing tool. It does not diagnose, treat or give medical advice; talk to a clinician about what your data means for you.",
        ],
      },
      {
        heading: "Your account",
        paragraphs: [
          "You sign in with passkeys. Keep your devices and recovery codes safe: anyone holding them can act as you. You can list and end your sessions and revoke device credentials at any time.",
          "Use Pulse only for your own data, or data you are entitled to manage. Do not try to reach another person's data, overload the service or get around its limits.",
        ],
      },
      {
        heading: "Sharing",
        paragraphs: [
          "You decide who can read your data: an invitation you create names a role, the categories of data and an expiry, and you can revoke it at any time. A clinician or researcher who reads your data must give a reason, and every read appears in your access log.",
          "Sharing requires that you have accepted the current version of these terms and of the privacy notice. If you withdraw either, sharing stops until you accept again.",
        ],
      },
      {
        heading: "Leaving",
        paragraphs: [
          "You can export everything Pulse holds about you and delete your account at any time. Deletion removes your data; the security audit keeps only pseudonymous records so that its integrity can still be checked.",
          "When these terms change, the new version has a new date and you are asked to accept it before you share again.",
        ],
      },
    ],
  },
  privacy: {
    title: "Pulse privacy notice",
    sections: [
      {
        heading: "What Pulse stores",
        paragraphs: [
          "Your account (username, display name, role), your passkeys' public keys, your sessions and devices, and the health data you send: observations such as heart rate or glucose, sleep, workouts, and the original files you upload. Each person's health data is kept in a store of its own, separate from everyone else's.",
          "Connections to providers are kept with their tokens encrypted. Notes in the vault are encrypted on your device with a key Pulse never sees.",
        ],
      },
      {
        heading: "Who can read it",
        paragraphs: [
          "You. People you shared with, within the categories and period you chose, until the share expires or you revoke it. When you ask the AI a question, the data it needs is encrypted to an attested enclave and decrypted only there. Pulse's operators have no way in the service to read your health data; auditors see the record of who accessed it, not the values.",
          "Every read and write of your health data is recorded in an audit log chained by cryptographic hashes; you can see it in your access log. Pulse does not sell your data or use it for advertising.",
        ],
      },
      {
        heading: "How long it is kept",
        paragraphs: [
          "Your health data stays until you delete it or your account. Original uploaded files are deleted after a retention period (365 days unless the service is configured otherwise); the data read from them stays. Provider notifications are kept 30 days, exports 7 days, and the audit log 7 years.",
        ],
      },
      {
        heading: "Your choices",
        paragraphs: [
          "You can export your data, revoke shares, withdraw your consent (which stops sharing) and delete your account. If this notice changes, its version date changes and you are asked to accept it again.",
        ],
      },
    ],
  },
};

/** The document as a small standalone HTML page, its version stated where a reader sees it. */
export function legalDocumentHtml(document: ConsentDocument): string {
  const { title, sections } = DOCUMENTS[document];
  const version = CURRENT_CONSENT_VERSIONS[document];
  const body = sections
    .map(
      (section) =>
        `<section>\n<h2>${section.heading}</h2>\n${section.paragraphs.map((paragraph) => `<p>${paragraph}</p>`).join("\n")}\n</section>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
</head>
<body>
<main>
<h1>${title}</h1>
<p>Version <strong id="version">${version}</strong>. Accept it with <code>POST /v1/me/consents {"document": "${document}", "version": "${version}"}</code>.</p>
${body}
</main>
</body>
</html>
`;
}
