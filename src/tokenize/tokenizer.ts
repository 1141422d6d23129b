/**
 * The tokenizer interface and identity shared by every tokenizer.
 */

/** What the manifest records about a tokenizer, so a build can be reproduced and audited. */
export interface TokenizerIdentity {
  /** Recipe name, e.g. `llama3`. */
  name: string;
  /** Vocabulary size including special tokens; every id is `< vocabSize`. */
  vocabSize: number;
  /** BOS id, added before every document. */
  bosId: number;
  /** EOS id, added after every document. */
  eosId: number;
  /** Id written into padding positions of a row. */
  padId: number;
  /** Where the vocabulary comes from (package and version). */
  vocabularySource: string;
  /** SHA-256 (hex) of the BPE ranks file in tiktoken format. */
  ranksSha256: string;
}

/** Serializable spec a worker thread needs to build the same tokenizer. */
export interface TokenizerSpec {
  identity: TokenizerIdentity;
  /** BPE ranks, tiktoken text format (`base64(bytes) rank\n` per token). */
  ranks: string;
  /** Special token strings -> ids (used only to decode; raw text is encoded as ordinary text). */
  specialTokens: Record<string, number>;
  /** Pre-tokenizer regex. */
  pattern: string;
}

/** An exact tokenizer over one vocabulary. */
export interface Tokenizer {
  readonly identity: TokenizerIdentity;
  /** Encodes text as ordinary text (special-token strings are not special) without BOS/EOS. */
  encodeOrdinary(text: string): Promise<Uint32Array>;
  /** Encodes and adds BOS first and EOS last, as ids; length = encodeOrdinary(text).length + 2. */
  encodeDocument(text: string): Promise<Int32Array>;
  /** Decodes ids to text; bytes that do not form UTF-8 become U+FFFD. */
  decode(ids: ArrayLike<number>): string;
  /** Frees native (WASM) memory. */
  free(): void;
}
