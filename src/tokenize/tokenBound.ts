/**
 * Proven upper bounds on a document's token count from its UTF-8 byte length, BOS and EOS
 * included, so a build can skip a document that cannot reach a bucket without tokenizing it
 * (issue 9, "byte prefilter"). A bound never depends on the text, only on `utf8Bytes`
 * (`Buffer.byteLength(text, 'utf8')`; a lone surrogate counts 3, as U+FFFD, which is what both
 * encoders turn it into).
 *
 * **LLaMA-3** (byte-level BPE, ./bpe.ts): the encoder cuts the UTF-8 bytes into pieces and every
 * piece into tokens; each token is a rank of the ranks file and every rank has at least one byte
 * (checked on the pinned file by the test; ./rankTables.ts refuses an empty one), so the tokens
 * partition the bytes and there are at most `utf8Bytes` of them. With BOS and EOS: `tokens ≤ utf8Bytes + 2`. Tight: `"a"` gives 3.
 *
 * **Phi-3** (LLaMA-2 SentencePiece BPE with byte fallback, ./phi3.ts through ./hfJson.ts):
 * 1. Non-empty text gets one dummy `▁` in front and every U+0020 becomes `▁`; empty text gives
 *    no ordinary token at all.
 * 2. BPE starts from one symbol per code point of that normalized text, and each merge joins two
 *    symbols into one, so merging never adds symbols.
 * 3. At the end a symbol with a vocabulary id is one token. A symbol without one is a single code
 *    point (merges join vocabulary pieces only), and byte fallback makes it one token per UTF-8
 *    byte of that code point.
 * So each code point c of the text yields at most max(1, utf8(c)) = utf8(c) tokens (a space is 1
 * byte and `▁` has an id: 1 token), and the dummy `▁` (an id, 0 bytes of input) one more:
 * `tokens ≤ utf8Bytes + 1` for non-empty text, and with BOS and EOS `≤ utf8Bytes + 3` (2 for
 * empty text). Tight: `"🙂"` (4 bytes) gives BOS, `▁`, its 4 bytes, EOS = 7.
 *
 * The premises (every rank non-empty; `▁` in the vocabulary; all 256 `<0xXX>` pieces; every
 * merge's parts and result in the vocabulary) are checked on the real vocabularies, and the bounds
 * by a property test over random and adversarial text, in test/tokenize/tokenBound.test.ts.
 */
import { LLAMA3_RANKS_SHA256 } from './llama3.ts';
import { PHI3_TOKENIZER_JSON_SHA256 } from './phi3.ts';
import type { TokenizerIdentity } from './tokenizer.ts';

function checkBytes(utf8Bytes: number): void {
  if (!Number.isSafeInteger(utf8Bytes) || utf8Bytes < 0) throw new RangeError(`Expected utf8Bytes to be a non-negative integer, got ${utf8Bytes}`);
}

/**
 * Most tokens (BOS and EOS included) a document of `utf8Bytes` UTF-8 bytes can have under LLaMA-3:
 * `utf8Bytes + 2`. See the module comment for the proof.
 * @throws RangeError when `utf8Bytes` is not a non-negative integer.
 */
export function llama3MaxDocumentTokens(utf8Bytes: number): number {
  checkBytes(utf8Bytes);
  return utf8Bytes + 2;
}

/**
 * Most tokens (BOS and EOS included) a document of `utf8Bytes` UTF-8 bytes can have under Phi-3:
 * `utf8Bytes + 3`, or 2 for an empty document. See the module comment for the proof.
 * @throws RangeError when `utf8Bytes` is not a non-negative integer.
 */
export function phi3MaxDocumentTokens(utf8Bytes: number): number {
  checkBytes(utf8Bytes);
  return utf8Bytes === 0 ? 2 : utf8Bytes + 3;
}

const BOUNDS: Record<string, { sha256: string; bound: (utf8Bytes: number) => number }> = {
  llama3: { sha256: LLAMA3_RANKS_SHA256, bound: llama3MaxDocumentTokens },
  phi3: { sha256: PHI3_TOKENIZER_JSON_SHA256, bound: phi3MaxDocumentTokens },
};

/**
 * Most tokens (BOS and EOS included) a document of `utf8Bytes` UTF-8 bytes can have under the
 * tokenizer `identity` describes; a document with fewer bound tokens than a bucket's minimum
 * cannot be in it.
 * @throws RangeError when no bound is proven for that tokenizer (its name is unknown, or its
 *   vocabulary is not the pinned one the proof checked), or `utf8Bytes` is not a non-negative integer.
 */
export function maxDocumentTokens(identity: Pick<TokenizerIdentity, 'name' | 'vocabularySha256'>, utf8Bytes: number): number {
  const bound = documentTokenBound(identity);
  if (!bound) throw new RangeError(`No token bound is proven for tokenizer "${identity.name}" with vocabulary ${identity.vocabularySha256}`);
  return bound(utf8Bytes);
}

/**
 * The proven bound of the tokenizer `identity` describes, as a function of a document's UTF-8
 * bytes (tokens, BOS and EOS included), or `undefined` when none is proven (an unknown name, or a
 * vocabulary that is not the pinned one the proof checked): a build then tokenizes every document.
 */
export function documentTokenBound(identity: Pick<TokenizerIdentity, 'name' | 'vocabularySha256'>): ((utf8Bytes: number) => number) | undefined {
  const entry = Object.hasOwn(BOUNDS, identity.name) ? BOUNDS[identity.name] : undefined;
  return entry && entry.sha256 === identity.vocabularySha256 ? entry.bound : undefined;
}
