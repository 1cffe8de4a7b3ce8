import type { ArchiveWriter } from "./archive";
import type { BuildContext } from "./build-job";

/** One more part of the archive, written after the account file (the FHIR bundle). */
export type ArchiveSection = (ctx: BuildContext, archive: ArchiveWriter) => Promise<void>;

/** `README.txt`, the first file of every archive: what the others are, for the person reading it. */
export const README_TEXT = `Your Pulse data export
=====================

This archive holds everything Pulse keeps about you. Every instant is UTC in ISO 8601
(e.g. 2026-01-15T08:00:00.000Z); zoneOffsetSeconds is the offset of the clock that recorded it.

manifest.json
  Format version, your user id, when the export was requested, and every file with the
  number of records it holds and its size.

observations/<metric>.ndjson
  One file per kind of measurement you have (heart_rate, steps, ...), one JSON object a line,
  oldest first: start, end, value, unit, where it came from (sourceKind "upload" or
  "provider", sourceApp, sourceRecordId, version), device, zoneOffsetSeconds, localDate, and
  flagged (true when the value is outside a physiological range; kept, never dropped).

sleep.ndjson
  Sleep sessions, one a line, with their stages (awake, light, deep, rem, ...) and totals
  (totals are in milliseconds).

workouts.ndjson
  Workouts, one a line, with their exercise type.

uploads/<record type>/<yyyy>/<mm>/<dd>/<upload id>.avro
  The Health Connect files you uploaded, byte for byte as received (Avro object container files).

account.json
  Your profile, passkeys (names and dates), sessions, devices, provider connections (without
  their tokens), the invitations and grants you gave and received, and your consent records
  (which versions of the terms and privacy notice you accepted, and when you withdrew).

fhir/bundle.json
  The same data as one FHIR R4 Bundle (type "collection"), for health-record systems that
  import FHIR: your Patient resource first, then every measurement as an Observation (LOINC
  codes and UCUM units where they exist; blood pressure as a systolic/diastolic panel; sleep
  sessions and workouts), then the devices that recorded them.

access-log.ndjson
  Every access to your health data, oldest first, as kept in your hash-chained audit log:
  who (actor, role), what (action, resource), when (at), why (reason), result, and the chain
  hashes (prevHash, hash) with which the log can be verified. It includes the reads made to
  build this export.
`;
