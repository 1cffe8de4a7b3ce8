/**
 * Array and map blocks (Avro 1.11 "Binary Encoding: Complex Types"): a series of blocks, each a
 * count (negative: followed by the block's byte size) and that many items, ended by a 0 count.
 * Declared counts are checked against `maxCollectionItems` and against the bytes that are left
 * before any item is read, so a forged count fails at once instead of after a long loop.
 */
import type { AvroCursor } from "./cursor";
import { truncated } from "./cursor";
import { setOwn } from "./defaults";
import { AvroError } from "./errors";

export type Read = (cursor: AvroCursor) => unknown;
export type Skip = (cursor: AvroCursor) => void;

/** Reads a block header and returns its item count (0 at the end); a negative count's size is discarded. */
function nextBlock(cursor: AvroCursor, seen: number, minItemBytes: number): number {
  let count = cursor.readLong();
  if (count < 0) {
    count = -count;
    if (cursor.readLong() < 0) throw new AvroError("CORRUPT_DATA", `negative block size at ${cursor.pos}`);
  }
  checkCount(cursor, seen + count, count, minItemBytes);
  return count;
}

function checkCount(cursor: AvroCursor, total: number, count: number, minItemBytes: number): void {
  if (total > cursor.limits.maxCollectionItems) {
    throw new AvroError("LIMIT_EXCEEDED", `collection of more than ${cursor.limits.maxCollectionItems} items at ${cursor.pos}`);
  }
  if (count * minItemBytes > cursor.remaining) throw truncated();
}

export function readArray(cursor: AvroCursor, read: Read, minItemBytes: number): unknown[] {
  const items: unknown[] = [];
  for (let count = nextBlock(cursor, 0, minItemBytes); count > 0; count = nextBlock(cursor, items.length, minItemBytes)) {
    for (let i = 0; i < count; i++) items.push(read(cursor));
  }
  return items;
}

export function readMap(cursor: AvroCursor, read: Read, minValueBytes: number): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  let seen = 0;
  for (let count = nextBlock(cursor, 0, minValueBytes + 1); count > 0; count = nextBlock(cursor, seen, minValueBytes + 1)) {
    seen += count;
    for (let i = 0; i < count; i++) {
      const key = cursor.readString();
      setOwn(map, key, read(cursor));
    }
  }
  return map;
}

/** Skips an array or map; `skipItem` skips one item (for a map: its key and value). */
export function skipCollection(cursor: AvroCursor, skipItem: Skip, minItemBytes: number): void {
  let seen = 0;
  for (;;) {
    const count = cursor.readLong();
    if (count === 0) return;
    if (count < 0) {
      // A negative count carries the block's byte size, so the whole block is skipped at once.
      cursor.skip(cursor.readLong());
      seen -= count;
      checkCount(cursor, seen, 0, 0);
      continue;
    }
    seen += count;
    checkCount(cursor, seen, count, minItemBytes);
    for (let i = 0; i < count; i++) skipItem(cursor);
  }
}
