/**
 * Hard limits against hostile files. Every size an Avro file declares (block byte sizes, item
 * counts, string lengths) is checked against these before anything is allocated, and inflation is
 * cut off as soon as a block's bound is crossed, so a small upload cannot claim a large amount of
 * memory in the Worker (128 MB per isolate).
 */
export interface AvroLimits {
  /** Bytes of the container header: magic, metadata map and sync marker. */
  maxHeaderBytes: number;
  /** Declared (on-the-wire, possibly compressed) byte size of one block. */
  maxBlockBytes: number;
  /**
   * Bytes of one block after inflating it. Real exports use blocks of about 64 KB (the Java
   * writer's default sync interval); while the output buffer doubles towards this bound, up to
   * 1.5 times it is briefly allocated, so it stays well under the isolate's 128 MB.
   */
  maxInflatedBlockBytes: number;
  /** Objects declared by one block. */
  maxBlockItems: number;
  /** Length of one string or bytes value, and the size of a fixed type. */
  maxStringBytes: number;
  /** Items of one array or entries of one map, summed over its blocks. */
  maxCollectionItems: number;
  /** Inflated bytes of all blocks of one file. */
  maxTotalBytes: number;
  /** Nesting of records, arrays, maps and unions in a datum and in a schema. */
  maxDepth: number;
}

export const DEFAULT_AVRO_LIMITS: Readonly<AvroLimits> = Object.freeze({
  maxHeaderBytes: 64 * 1024,
  maxBlockBytes: 8 * 1024 * 1024,
  maxInflatedBlockBytes: 16 * 1024 * 1024,
  maxBlockItems: 1_000_000,
  maxStringBytes: 1024 * 1024,
  maxCollectionItems: 1_000_000,
  maxTotalBytes: 512 * 1024 * 1024,
  maxDepth: 64,
});

export function resolveLimits(overrides: Partial<AvroLimits> = {}): AvroLimits {
  return { ...DEFAULT_AVRO_LIMITS, ...overrides };
}
