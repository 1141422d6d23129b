/**
 * Adversarial documents for the tokenizers: long runs of one character class (letters,
 * punctuation, white space, digits, CJK, emoji, combining marks, astral letters), special-token
 * strings, and a DNA string. Each is described as data ({@link AdversarialText}) so that the
 * native tiktoken side (bench/native_tiktoken.py) builds the very same text: test fixtures
 * (test/tokenize/fixtures/native-tiktoken-llama3.json, written by
 * scripts/record-native-fixtures.ts) and `pnpm bench` both use these.
 */

/** A text as repeated units, or a generated sequence. */
export type AdversarialText =
  | { name: string; kind: 'runs'; runs: [unit: string, count: number][] }
  /** `n` characters, character i = "ACGT"[(7919 i + 31 ⌊i/8⌋) mod 4]. */
  | { name: string; kind: 'dna'; n: number }
  /** `n` CJK ideographs, character i = U+4E00 + (7919 i mod 20902). */
  | { name: string; kind: 'cjk'; n: number };

const runs = (name: string, ...r: [string, number][]): AdversarialText => ({ name, kind: 'runs', runs: r });

/** The inputs the issue names (runs of `a`, `^`, DNA, CJK): timed against native tiktoken in `pnpm bench`. */
export const HEADLINE_TEXTS: readonly AdversarialText[] = [
  runs('a×400k', ['a', 400_000]),
  runs('a×4M', ['a', 4_000_000]),
  runs('a×16M', ['a', 16_000_000]),
  runs('^×2M', ['^', 2_000_000]),
  { name: 'DNA 4M', kind: 'dna', n: 4_000_000 },
  runs('東×40k', ['東', 40_000]),
  runs('東×400k', ['東', 400_000]),
];

/** Mixed adversarial inputs: every other class of long run. */
export const MIXED_TEXTS: readonly AdversarialText[] = [
  { name: 'CJK varied 400k', kind: 'cjk', n: 400_000 },
  runs('spaces 2M + x', [' ', 2_000_000], ['x', 1]),
  runs('space/tab/newline/ideographic space 3M', [' \t', 500_000], ['\r\n', 500_000], ['\u3000', 1_000_000], ['end', 1]),
  runs('punctuation then newlines 2M', [' ', 1], ['=', 1_000_000], ['\n', 1_000_000]),
  runs('digits 3M', ['7', 1_000_000], ['١٢٣4', 500_000]),
  runs('emoji 1M', ['🙂', 1_000_000]),
  runs('combining marks 2M', ['a', 1], ['\u0301', 2_000_000]),
  runs('astral letters 1M', ['𝐀', 1_000_000]),
  runs('special-token strings', ['<|end_of_text|>', 100_000], ['<|begin_of_text|><s></s>', 50_000]),
  runs('contractions 1M', ["it's", 250_000]),
  runs('nbsp + Cyrillic 2M', ['\u00a0', 1], ['б', 2_000_000]),
];

/**
 * Pieces just short of the 128 UTF-8 bytes from which src/tokenize/longPieces.ts merges them (below
 * it, tiktoken does, one call per piece, uncached): the worst case of that threshold, timed against
 * native tiktoken in `pnpm bench`. Short enough for tiktoken WASM itself to be the test reference.
 */
export const THRESHOLD_TEXTS: readonly AdversarialText[] = [
  runs('東 pieces of 127 bytes 1M', [' ' + '東'.repeat(42), 23_256]),
  runs('^ pieces of 127 bytes 1M', ['x' + '^'.repeat(127), 7_813]),
  runs('a pieces of 127 bytes 1M', [' ' + 'a'.repeat(126), 7_875]),
];

/** Builds the text an {@link AdversarialText} describes. */
export function makeAdversarialText(spec: AdversarialText): string {
  if (spec.kind === 'runs') return spec.runs.map(([unit, count]) => unit.repeat(count)).join('');
  const chars: string[] = new Array(spec.n);
  for (let i = 0; i < spec.n; i++) {
    chars[i] = spec.kind === 'dna' ? 'ACGT'[(7919 * i + 31 * Math.floor(i / 8)) % 4] : String.fromCharCode(0x4e00 + ((7919 * i) % 20902));
  }
  return chars.join('');
}
