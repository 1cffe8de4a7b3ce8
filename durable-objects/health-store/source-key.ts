/**
 * A source record's identity as one string, for grouping a batch in memory: kind, app and record
 * id, unambiguous because the app's length says where it ends.
 */
export function sourceKey(kind: string, app: string, id: string): string {
  return `${kind}\n${app.length}:${app}\n${id}`;
}
