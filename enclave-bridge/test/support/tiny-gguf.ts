/**
 * Writes a tiny llama-architecture model in GGUF v3 with deterministic random weights, so tests and
 * the bench exercise node-llama-cpp's real loading and generation path without shipping weights.
 * Its answers are noise; what it proves is the path: the file loads, the prompt is tokenized and
 * evaluated, tokens are generated, limits and aborts hold.
 *
 * Layout (GGUF v3, little-endian): "GGUF", version, tensor count, key/value count, the key/value
 * pairs, the tensor descriptors, padding to the alignment, then each tensor's data, aligned.
 *
 * The weights are random except for one thing: residual dimension 0 carries a constant that no
 * layer writes to, and the output projection reads that dimension only for the control tokens
 * (unknown, begin, end), with a large negative weight. So the model never ends its own answer and
 * every generation runs to the caller's token limit — which makes limits and timeouts testable.
 *
 * Usage: `npx node enclave-bridge/test/support/tiny-gguf.ts OUT.gguf [SEED]`.
 */
import { writeFile } from "node:fs/promises";

const GGUF_VERSION = 3;
const ALIGNMENT = 32;
const GGML_TYPE_F32 = 0;

const ValueType = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;
type ValueType = (typeof ValueType)[keyof typeof ValueType];

const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, BYTE: 6 } as const;

type Value =
  | { type: typeof ValueType.UINT32 | typeof ValueType.INT32 | typeof ValueType.FLOAT32; value: number }
  | { type: typeof ValueType.BOOL; value: boolean }
  | { type: typeof ValueType.STRING; value: string }
  | { type: typeof ValueType.ARRAY; of: typeof ValueType.STRING; values: readonly string[] }
  | { type: typeof ValueType.ARRAY; of: typeof ValueType.FLOAT32 | typeof ValueType.INT32; values: readonly number[] };

export interface TinyGgufOptions {
  /** Seeds the weights: the same seed writes the same bytes. */
  readonly seed?: number;
  /** The context length the model declares (llama.context_length). */
  readonly contextLength?: number;
}

const N_EMBD = 64;
const N_HEAD = 4;
const N_LAYER = 2;
const N_FF = 128;

/** SentencePiece-style vocabulary: three specials, 256 byte tokens, printable ASCII, "▁" + letters, a few words. */
export function tinyVocabulary(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types: number[] = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL];
  for (let byte = 0; byte < 256; byte += 1) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TokenType.BYTE);
  }
  const pieces = ["▁"];
  for (let code = 0x21; code <= 0x7e; code += 1) pieces.push(String.fromCharCode(code));
  for (let code = 0x61; code <= 0x7a; code += 1) pieces.push(`▁${String.fromCharCode(code)}`);
  for (let digit = 0; digit <= 9; digit += 1) pieces.push(`▁${digit}`);
  const words = ["the", "and", "you", "your", "heart", "rate", "sleep", "steps", "mean", "min", "max", "bpm", "data"];
  for (const word of words) pieces.push(`▁${word}`);
  for (const piece of pieces) {
    tokens.push(piece);
    types.push(TokenType.NORMAL);
  }
  // Longer pieces score higher, so the tokenizer's merges prefer whole words.
  const scores = tokens.map((token, index) => (types[index] === TokenType.NORMAL ? -1000 + token.length * 10 - index / 1000 : 0));
  return { tokens, scores, types };
}

/** mulberry32: small, fast and deterministic; quality is irrelevant for noise weights. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Tensor {
  name: string;
  /** GGML order: dims[0] is the contiguous (row) dimension. */
  dims: number[];
  data: Float32Array;
}

export function tinyGguf(options: TinyGgufOptions = {}): Uint8Array {
  const next = random(options.seed ?? 1);
  const vocab = tinyVocabulary();
  const nVocab = vocab.tokens.length;
  const uniform = (count: number, scale: number) => Float32Array.from({ length: count }, () => (next() * 2 - 1) * scale);
  const ones = (count: number) => new Float32Array(count).fill(1);
  /** A [in, out] matrix whose output row 0 is zero, so no layer changes residual dimension 0. */
  const intoResidual = (inputs: number) => {
    const matrix = uniform(inputs * N_EMBD, 0.3);
    matrix.fill(0, 0, inputs);
    return matrix;
  };

  const embeddings = uniform(N_EMBD * nVocab, 0.5);
  for (let token = 0; token < nVocab; token += 1) embeddings[token * N_EMBD] = 1;
  const output = uniform(N_EMBD * nVocab, 0.5);
  for (let token = 0; token < nVocab; token += 1) {
    const control = vocab.types[token] !== TokenType.NORMAL && vocab.types[token] !== TokenType.BYTE;
    output[token * N_EMBD] = control ? -1000 : 0;
  }

  const tensors: Tensor[] = [
    { name: "token_embd.weight", dims: [N_EMBD, nVocab], data: embeddings },
    { name: "output_norm.weight", dims: [N_EMBD], data: ones(N_EMBD) },
    { name: "output.weight", dims: [N_EMBD, nVocab], data: output },
  ];
  for (let layer = 0; layer < N_LAYER; layer += 1) {
    const block = `blk.${layer}`;
    tensors.push(
      { name: `${block}.attn_norm.weight`, dims: [N_EMBD], data: ones(N_EMBD) },
      { name: `${block}.attn_q.weight`, dims: [N_EMBD, N_EMBD], data: uniform(N_EMBD * N_EMBD, 0.3) },
      { name: `${block}.attn_k.weight`, dims: [N_EMBD, N_EMBD], data: uniform(N_EMBD * N_EMBD, 0.3) },
      { name: `${block}.attn_v.weight`, dims: [N_EMBD, N_EMBD], data: uniform(N_EMBD * N_EMBD, 0.3) },
      { name: `${block}.attn_output.weight`, dims: [N_EMBD, N_EMBD], data: intoResidual(N_EMBD) },
      { name: `${block}.ffn_norm.weight`, dims: [N_EMBD], data: ones(N_EMBD) },
      { name: `${block}.ffn_gate.weight`, dims: [N_EMBD, N_FF], data: uniform(N_EMBD * N_FF, 0.3) },
      { name: `${block}.ffn_up.weight`, dims: [N_EMBD, N_FF], data: uniform(N_EMBD * N_FF, 0.3) },
      { name: `${block}.ffn_down.weight`, dims: [N_FF, N_EMBD], data: intoResidual(N_FF) },
    );
  }

  const metadata: [string, Value][] = [
    ["general.architecture", { type: ValueType.STRING, value: "llama" }],
    ["general.name", { type: ValueType.STRING, value: "pulse-tiny-random" }],
    ["general.alignment", { type: ValueType.UINT32, value: ALIGNMENT }],
    ["general.file_type", { type: ValueType.UINT32, value: 0 }],
    ["llama.context_length", { type: ValueType.UINT32, value: options.contextLength ?? 4096 }],
    ["llama.embedding_length", { type: ValueType.UINT32, value: N_EMBD }],
    ["llama.block_count", { type: ValueType.UINT32, value: N_LAYER }],
    ["llama.feed_forward_length", { type: ValueType.UINT32, value: N_FF }],
    ["llama.attention.head_count", { type: ValueType.UINT32, value: N_HEAD }],
    ["llama.attention.head_count_kv", { type: ValueType.UINT32, value: N_HEAD }],
    ["llama.attention.layer_norm_rms_epsilon", { type: ValueType.FLOAT32, value: 1e-5 }],
    ["llama.rope.dimension_count", { type: ValueType.UINT32, value: N_EMBD / N_HEAD }],
    ["llama.rope.freq_base", { type: ValueType.FLOAT32, value: 10_000 }],
    ["llama.vocab_size", { type: ValueType.UINT32, value: nVocab }],
    ["tokenizer.ggml.model", { type: ValueType.STRING, value: "llama" }],
    ["tokenizer.ggml.tokens", { type: ValueType.ARRAY, of: ValueType.STRING, values: vocab.tokens }],
    ["tokenizer.ggml.scores", { type: ValueType.ARRAY, of: ValueType.FLOAT32, values: vocab.scores }],
    ["tokenizer.ggml.token_type", { type: ValueType.ARRAY, of: ValueType.INT32, values: vocab.types }],
    ["tokenizer.ggml.unknown_token_id", { type: ValueType.UINT32, value: 0 }],
    ["tokenizer.ggml.bos_token_id", { type: ValueType.UINT32, value: 1 }],
    ["tokenizer.ggml.eos_token_id", { type: ValueType.UINT32, value: 2 }],
    ["tokenizer.ggml.add_bos_token", { type: ValueType.BOOL, value: true }],
    ["tokenizer.ggml.add_eos_token", { type: ValueType.BOOL, value: false }],
  ];

  const out = new Writer();
  out.bytes(new TextEncoder().encode("GGUF"));
  out.u32(GGUF_VERSION);
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const [key, value] of metadata) {
    out.string(key);
    out.value(value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const tensor of tensors) {
    out.string(tensor.name);
    out.u32(tensor.dims.length);
    for (const dim of tensor.dims) out.u64(dim);
    out.u32(GGML_TYPE_F32);
    out.u64(offset);
    offsets.push(offset);
    offset = alignUp(offset + tensor.data.byteLength);
  }
  out.pad();
  const dataStart = out.length;
  tensors.forEach((tensor, index) => {
    out.padTo(dataStart + (offsets[index] ?? 0));
    out.bytes(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
  });
  return out.finish();
}

export async function writeTinyGguf(path: string, options: TinyGgufOptions = {}): Promise<void> {
  await writeFile(path, tinyGguf(options));
}

function alignUp(offset: number): number {
  return Math.ceil(offset / ALIGNMENT) * ALIGNMENT;
}

/** Appends little-endian GGUF values to growing chunks. */
class Writer {
  readonly #chunks: Uint8Array[] = [];
  length = 0;

  bytes(bytes: Uint8Array): void {
    this.#chunks.push(bytes.slice());
    this.length += bytes.byteLength;
  }

  #fixed(size: number, write: (view: DataView) => void): void {
    const bytes = new Uint8Array(size);
    write(new DataView(bytes.buffer));
    this.bytes(bytes);
  }

  u32(value: number): void {
    this.#fixed(4, (view) => view.setUint32(0, value, true));
  }

  u64(value: number): void {
    this.#fixed(8, (view) => view.setBigUint64(0, BigInt(value), true));
  }

  string(text: string): void {
    const bytes = new TextEncoder().encode(text);
    this.u64(bytes.byteLength);
    this.bytes(bytes);
  }

  #scalar(type: ValueType, value: number | boolean | string): void {
    if (type === ValueType.STRING) this.string(String(value));
    else if (type === ValueType.BOOL) this.#fixed(1, (view) => view.setUint8(0, value ? 1 : 0));
    else if (type === ValueType.FLOAT32) this.#fixed(4, (view) => view.setFloat32(0, Number(value), true));
    else if (type === ValueType.INT32) this.#fixed(4, (view) => view.setInt32(0, Number(value), true));
    else this.u32(Number(value));
  }

  value(value: Value): void {
    this.u32(value.type);
    if (value.type !== ValueType.ARRAY) {
      this.#scalar(value.type, value.value);
      return;
    }
    this.u32(value.of);
    this.u64(value.values.length);
    for (const item of value.values) this.#scalar(value.of, item);
  }

  pad(): void {
    this.padTo(alignUp(this.length));
  }

  padTo(position: number): void {
    if (position > this.length) this.bytes(new Uint8Array(position - this.length));
  }

  finish(): Uint8Array {
    const result = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.#chunks) {
      result.set(chunk, at);
      at += chunk.byteLength;
    }
    return result;
  }
}

if (import.meta.main) {
  const [path, seed] = process.argv.slice(2);
  if (path === undefined) {
    process.stderr.write("usage: tiny-gguf.ts OUT.gguf [SEED]\n");
    process.exit(2);
  }
  await writeTinyGguf(path, seed === undefined ? {} : { seed: Number(seed) });
}
