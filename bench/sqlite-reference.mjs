// The in-process references of benches (b) and (c): the same Avro files decoded in Node (avsc,
// compiled decoders), mapped to the same rows (Pulse's own mapping, bundled), and written into
// SQLite in the same process with Node's built-in `node:sqlite` — no network, no queue, no RPC, no
// audit. better-sqlite3 would be the usual choice, but it is a native module that must be built for
// the exact Node ABI, and the bench runs on the project's Node 24 (the `node` package) while the
// machine's npm builds for its own Node 20; node:sqlite ships inside Node 24 (SQLite 3.5x).
//
// Tables mirror the HealthStore's (durable-objects/health-store/migrations*.ts): one row per source
// record, lean sample rows pointing to it with the same unique key and metric index, sleep
// sessions with their stages. What the store adds beyond that (quarter-hour rollups, the audit
// chain) is part of what the comparison measures, so it is left out here.
import { createRequire } from "node:module";
import { DatabaseSync } from "node:sqlite";
import { Readable } from "node:stream";
import { loadPulseModules } from "./pulse-modules.mjs";

const require = createRequire(import.meta.url);
const avro = require("avsc");

const SCHEMA = [
  `CREATE TABLE observation_records (
    id INTEGER PRIMARY KEY, source_kind TEXT NOT NULL, source_app TEXT NOT NULL, source_record_id TEXT NOT NULL,
    version INTEGER NOT NULL, device TEXT, ingested_at INTEGER NOT NULL) STRICT`,
  "CREATE UNIQUE INDEX observation_records_source_key ON observation_records (source_kind, source_app, source_record_id)",
  `CREATE TABLE observations (
    id INTEGER PRIMARY KEY, record_id INTEGER NOT NULL, metric TEXT NOT NULL, start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL, zone_offset_seconds INTEGER,
    local_date TEXT NOT NULL, flagged INTEGER NOT NULL DEFAULT 0) STRICT`,
  "CREATE UNIQUE INDEX observations_sample_key ON observations (record_id, metric, start_ms)",
  "CREATE INDEX observations_metric_start ON observations (metric, start_ms)",
  `CREATE TABLE sleep_sessions (
    id INTEGER PRIMARY KEY, source_kind TEXT NOT NULL, source_app TEXT NOT NULL, source_record_id TEXT NOT NULL,
    version INTEGER NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, zone_offset_seconds INTEGER,
    local_date TEXT NOT NULL, title TEXT, notes TEXT, device TEXT, flagged INTEGER NOT NULL, ingested_at INTEGER NOT NULL) STRICT`,
  "CREATE UNIQUE INDEX sleep_sessions_source_key ON sleep_sessions (source_kind, source_app, source_record_id)",
  `CREATE TABLE sleep_stages (
    id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, stage TEXT NOT NULL, start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL) STRICT`,
  "CREATE INDEX sleep_stages_session ON sleep_stages (session_id, start_ms)",
];

const SAMPLE_COLUMNS = 9;
const STAGE_COLUMNS = 4;
/** Rows per multi-row INSERT: 500 × 9 = 4,500 bound parameters (SQLite allows 32,766). */
const ROWS_PER_STATEMENT = 500;

/** A file-backed database (WAL, synchronous=NORMAL: the usual tuned settings) with the store's tables. */
export function openReferenceDb(path) {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  for (const statement of SCHEMA) db.exec(statement);
  return db;
}

/** All records of a container, decoded by avsc with the file's writer schema. */
function decodeAvsc(bytes) {
  return new Promise((resolvePromise, reject) => {
    const records = [];
    Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)])
      .pipe(new avro.streams.BlockDecoder())
      .on("data", (record) => records.push(record))
      .on("end", () => resolvePromise(records))
      .on("error", reject);
  });
}

/** Inserts `rows` (arrays of `columns` values) with one prepared statement per ROWS_PER_STATEMENT. */
function multiRowInsert(db, head, columns, rows, tail = "") {
  const tuple = `(${Array(columns).fill("?").join(", ")})`;
  const statement = (n) => db.prepare(`${head} VALUES ${Array(n).fill(tuple).join(", ")}${tail}`);
  const full = rows.length >= ROWS_PER_STATEMENT ? statement(ROWS_PER_STATEMENT) : undefined;
  const params = new Array(ROWS_PER_STATEMENT * columns);
  let inserted = 0;
  for (let first = 0; first < rows.length; first += ROWS_PER_STATEMENT) {
    const count = Math.min(ROWS_PER_STATEMENT, rows.length - first);
    if (count < ROWS_PER_STATEMENT) params.length = count * columns;
    for (let i = 0; i < count; i++) {
      const row = rows[first + i];
      for (let c = 0; c < columns; c++) params[i * columns + c] = row[c];
    }
    const { changes } = (count === ROWS_PER_STATEMENT ? full : statement(count)).run(...params);
    inserted += Number(changes);
  }
  return inserted;
}

/** Writes mapped records in the caller's transaction; returns the rows written. */
function insertMapped(db, mapped, now) {
  const record = db.prepare(
    `INSERT INTO observation_records (source_kind, source_app, source_record_id, version, device, ingested_at)
     VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
  );
  const recordIds = new Map();
  const samples = [];
  for (const obs of mapped.observations) {
    const key = `${obs.sourceKind}\n${obs.sourceApp}\n${obs.sourceRecordId}`;
    let id = recordIds.get(key);
    if (id === undefined) {
      id = record.get(obs.sourceKind, obs.sourceApp, obs.sourceRecordId, obs.version, obs.device, now).id;
      recordIds.set(key, id);
    }
    samples.push([
      id,
      obs.metric,
      obs.start,
      obs.end,
      obs.value,
      obs.unit,
      obs.zoneOffsetSeconds,
      obs.localDate,
      obs.flagged ? 1 : 0,
    ]);
  }
  const observations = multiRowInsert(
    db,
    "INSERT INTO observations (record_id, metric, start_ms, end_ms, value, unit, zone_offset_seconds, local_date, flagged)",
    SAMPLE_COLUMNS,
    samples,
    " ON CONFLICT DO NOTHING",
  );

  const session = db.prepare(
    `INSERT INTO sleep_sessions (source_kind, source_app, source_record_id, version, start_ms, end_ms, zone_offset_seconds,
       local_date, title, notes, device, flagged, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  );
  const stages = [];
  for (const s of mapped.sleepSessions) {
    const { id } = session.get(
      s.sourceKind,
      s.sourceApp,
      s.sourceRecordId,
      s.version,
      s.start,
      s.end,
      s.zoneOffsetSeconds,
      s.localDate,
      s.title,
      s.notes,
      s.device,
      s.flagged ? 1 : 0,
      now,
    );
    for (const stage of s.stages) stages.push([id, stage.stage, stage.start, stage.end]);
  }
  multiRowInsert(db, "INSERT INTO sleep_stages (session_id, stage, start_ms, end_ms)", STAGE_COLUMNS, stages);
  return { observations, sleepSessions: mapped.sleepSessions.length, stages: stages.length };
}

/**
 * Decodes, maps and writes `files` ({type, bytes}) in one transaction; returns the time of each
 * phase and what was written. The clock runs from the first byte decoded to the commit.
 */
export async function referenceIngest(db, files) {
  const pulse = await loadPulseModules();
  const timing = { decodeMs: 0, mapMs: 0, insertMs: 0 };
  const written = { observations: 0, sleepSessions: 0, stages: 0 };
  const started = performance.now();
  const mappedFiles = [];
  for (const file of files) {
    let t = performance.now();
    const records = await decodeAvsc(file.bytes);
    timing.decodeMs += performance.now() - t;
    t = performance.now();
    mappedFiles.push(pulse.mapRecords(file.type, records));
    timing.mapMs += performance.now() - t;
  }
  const t = performance.now();
  db.exec("BEGIN");
  try {
    for (const mapped of mappedFiles) {
      const result = insertMapped(db, mapped, Date.now());
      for (const key of Object.keys(written)) written[key] += result[key];
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
  timing.insertMs = performance.now() - t;
  return { ...timing, totalMs: performance.now() - started, written, mapped: mappedFiles };
}

/** The hourly aggregate of bench (c) as a plain scan of the sample rows (no rollups). */
export function hourlyAggregate(db, { metric, since, until }) {
  return db
    .prepare(
      `SELECT start_ms / 3600000 AS hour, AVG(value) AS avg, MIN(value) AS min, MAX(value) AS max, COUNT(*) AS count
       FROM observations WHERE metric = ? AND start_ms >= ? AND start_ms < ? AND flagged = 0
       GROUP BY hour ORDER BY hour`,
    )
    .all(metric, since, until);
}
