/**
 * Writer-side helpers: skipping a value the reader does not want (a writer field missing from the
 * reader schema), and the smallest number of bytes a value can take, used to reject declared item
 * counts that the remaining bytes cannot hold.
 */
import { type Skip, skipCollection } from "./collections";
import { AvroError } from "./errors";
import type { AvroSchema } from "./schema-types";

const skippers = new WeakMap<AvroSchema, Skip>();

const skipVarint: Skip = (c) => {
  c.readLong();
};

export function skipperFor(schema: AvroSchema): Skip {
  const known = skippers.get(schema);
  if (known) return known;
  switch (schema.type) {
    case "null":
      return () => {};
    case "boolean":
      return (c) => c.skip(1);
    case "int":
    case "long":
    case "enum":
      return skipVarint;
    case "float":
      return (c) => c.skip(4);
    case "double":
      return (c) => c.skip(8);
    case "string":
    case "bytes":
      return (c) => c.skipString();
    case "fixed": {
      const size = schema.size;
      return (c) => c.skip(size);
    }
    case "array": {
      const minBytes = minEncodedSize(schema.items);
      const item = skipperFor(schema.items);
      return (c) => skipCollection(c, item, minBytes);
    }
    case "map": {
      const minBytes = minEncodedSize(schema.values) + 1;
      const value = skipperFor(schema.values);
      return (c) =>
        skipCollection(
          c,
          (inner) => {
            inner.skipString();
            value(inner);
          },
          minBytes,
        );
    }
    case "union": {
      const branches: Skip[] = [];
      const skip: Skip = (c) => {
        const index = c.readLong();
        const branch = branches[index];
        if (branch === undefined) throw new AvroError("CORRUPT_DATA", `union index ${index} out of range at ${c.pos}`);
        branch(c);
      };
      skippers.set(schema, skip);
      for (const branch of schema.branches) branches.push(skipperFor(branch));
      return skip;
    }
    case "record":
    case "error": {
      const fields: Skip[] = [];
      // Registered before its fields so that a recursive record refers to itself; the depth bound
      // keeps a forged recursive datum from exhausting the stack.
      const skip: Skip = (c) => {
        if (++c.depth > c.limits.maxDepth) throw new AvroError("LIMIT_EXCEEDED", `nesting deeper than ${c.limits.maxDepth}`);
        for (const field of fields) field(c);
        c.depth--;
      };
      skippers.set(schema, skip);
      for (const field of schema.fields) fields.push(skipperFor(field.type));
      return skip;
    }
  }
}

const minSizes = new WeakMap<AvroSchema, number>();

/** Lower bound of the encoded size of any value of `schema`. */
export function minEncodedSize(schema: AvroSchema): number {
  const known = minSizes.get(schema);
  if (known !== undefined) return known;
  switch (schema.type) {
    case "null":
      return 0;
    case "float":
      return 4;
    case "double":
      return 8;
    case "fixed":
      return schema.size;
    case "record":
    case "error": {
      // 0 while in progress: a recursive reference contributes nothing to the bound.
      minSizes.set(schema, 0);
      let total = 0;
      for (const field of schema.fields) total += minEncodedSize(field.type);
      minSizes.set(schema, total);
      return total;
    }
    default:
      return 1;
  }
}
