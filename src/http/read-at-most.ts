/**
 * Reads a stream into one buffer unless it passes `maxBytes`: then stops reading, cancels it and
 * answers `null`, so a sender cannot make the Worker hold more than the limit. Used for what the
 * enclave bridge answers (ai/enclave.ts); request bodies are bounded as they stream (middleware/body.ts).
 */
export async function readAtMost(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let seen = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    seen += value.byteLength;
    if (seen > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(seen);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
