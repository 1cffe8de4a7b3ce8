/**
 * The per-datum record loop. Field plans are arrays walked by index rather than one closure per
 * field, which keeps the hot path to a single function V8 can optimise for every record type.
 */
import type { Read } from "./collections";
import type { DefaultFactory } from "./defaults";
import { setOwn } from "./defaults";

export interface RecordStep {
  /** The reader field that receives the value, or undefined when the writer field is skipped. */
  readonly name: string | undefined;
  readonly read: Read;
}

export function readRecord(steps: readonly RecordStep[], defaults: ReadonlyArray<{ name: string; make: DefaultFactory }>): Read {
  const count = steps.length;
  const names = steps.map((step) => step.name);
  const reads = steps.map((step) => step.read);
  const defaultNames = defaults.map((entry) => entry.name);
  const makers = defaults.map((entry) => entry.make);
  if (names.includes("__proto__") || defaultNames.includes("__proto__")) {
    return (c) => {
      const record: Record<string, unknown> = {};
      for (let i = 0; i < count; i++) {
        const name = names[i];
        const value = (reads[i] as Read)(c);
        if (name !== undefined) setOwn(record, name, value);
      }
      for (let i = 0; i < makers.length; i++) setOwn(record, defaultNames[i] as string, (makers[i] as DefaultFactory)());
      return record;
    };
  }
  // Every datum starts as a copy of a template holding all fields, so the stores below update
  // existing properties of one shared hidden class instead of growing a fresh object field by field.
  const template: Record<string, unknown> = {};
  for (const name of names) if (name !== undefined) template[name] = undefined;
  for (const name of defaultNames) template[name] = undefined;
  return (c) => {
    const record = { ...template };
    for (let i = 0; i < count; i++) {
      const name = names[i];
      const value = (reads[i] as Read)(c);
      if (name !== undefined) record[name] = value;
    }
    for (let i = 0; i < makers.length; i++) record[defaultNames[i] as string] = (makers[i] as DefaultFactory)();
    return record;
  };
}
