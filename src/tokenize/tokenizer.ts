/**
 * The tokenizer interface, identity and spec shared by every tokenizer.
 */

/** What the manifest records about a tokenizer, so a build can be reproduced and audited. */
export interface TokenizerIdentity {
  /** Recipe name, e.g. `llama3`. */
  name: string;
  /** Vocabulary size including special tokens (and unused padding ids); every id is `< vocabSize`. */
  vocabSize: number;
  /** BOS id, added before every document. */
  bosId: number;
  /** EOS id, added after every document. */
  eosId: number;
  /** Id written into padding positions of a row. */
  padId: number;
  /** Where the vocabulary comes from (package and version). */
  vocabularySource: string;
  /**
   * SHA-256 (hex) of the vocabulary file the encoder loads, as UTF-8 text: the tiktoken ranks
   * text for `tiktoken` specs, the `tokenizer.json` text for `hf-json` specs.
   */
  vocabularySha256: string;
}

/** Spec of a byte-level BPE tokenizer over a tiktoken ranks file (ids = tiktoken's `encode_ordinary`): ./bpe.ts. */
export interface TiktokenSpec {
  kind: 'tiktoken';
  identity: TokenizerIdentity;
  /** BPE ranks, tiktoken text format (`base64(bytes) rank\n` per token). */
  ranks: string;
  /** Special token strings -> ids (used only to decode; raw text is encoded as ordinary text). */
  specialTokens: Record<string, number>;
  /** Pre-tokenizer regex. */
  pattern: string;
}

/** Spec of a tokenizer loaded from a Hugging Face `tokenizer.json` with a BPE model: ./hfJson.ts. */
export interface HfJsonSpec {
  kind: 'hf-json';
  identity: TokenizerIdentity;
  /**
   * `tokenizer.json` text. Its normalizer, pre-tokenizer, BPE model and decoder are used; its
   * `added_tokens` only decode (raw text is encoded as ordinary text) and its post-processor is
   * ignored (BOS/EOS are added as ids from `identity`).
   */
  tokenizerJson: string;
}

/** Serializable spec a worker thread needs to build the same tokenizer (structured-clone safe). */
export type TokenizerSpec = TiktokenSpec | HfJsonSpec;

/** An exact tokenizer over one vocabulary. */
export interface Tokenizer {
  readonly identity: TokenizerIdentity;
  /** Encodes text as ordinary text (special-token strings are not special) without BOS/EOS. */
  encodeOrdinary(text: string): Promise<Uint32Array>;
  /** Encodes and adds BOS first and EOS last, as ids; length = encodeOrdinary(text).length + 2. */
  encodeDocument(text: string): Promise<Int32Array>;
  /** Decodes ids to text; bytes that do not form UTF-8 become U+FFFD. */
  decode(ids: ArrayLike<number>): string;
  /** Frees native (WASM) memory and caches. */
  free(): void;
}

/**
 * Wraps ordinary ids in BOS … EOS.
 * @returns Int32Array of length `ids.length + 2`.
 */
export function withBosEos(ids: ArrayLike<number>, identity: TokenizerIdentity): Int32Array {
  const out = new Int32Array(ids.length + 2);
  out[0] = identity.bosId;
  out.set(ids, 1);
  out[out.length - 1] = identity.eosId;
  return out;
}
