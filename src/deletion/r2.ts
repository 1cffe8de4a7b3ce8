/** Deleting R2 objects by prefix, a listing page at a time (R2 lists and deletes at most 1,000 keys per call). */
const PAGE = 1000;

/** Deletes every object under `prefix`; returns how many. Safe to repeat: a second run finds none. */
export async function deletePrefix(bucket: R2Bucket, prefix: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    // Always from the start: the keys just deleted are gone, so no cursor is needed (R2 listings are strongly consistent).
    const page = await bucket.list({ prefix, limit: PAGE });
    const keys = page.objects.map((object) => object.key);
    if (keys.length > 0) await bucket.delete(keys);
    deleted += keys.length;
    if (!page.truncated || keys.length === 0) return deleted;
  }
}
