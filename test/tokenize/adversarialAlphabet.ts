/**
 * Test helper: fast-check arbitraries for adversarial text: fragments that sit on the edges of
 * the pre-tokenizers' alternatives (contractions in every case, U+017F, white space of every kind
 * and CR/LF, digits of several scripts, letters in and out of the BMP, combining marks, emoji,
 * CJK, U+FEFF, U+2581, lone surrogates, special-token strings), in runs.
 */
import fc from 'fast-check';

/** Fragments; a generated text is a sequence of them, each repeated a few times. */
export const FRAGMENTS = [
  'a',
  'Z',
  'é',
  'e\u0301',
  '\u0301',
  'ſ',
  'б',
  'ب',
  '東',
  '京都',
  '𝐀',
  '𐐀',
  '🙂',
  '👍🏽',
  '🇫🇷',
  '\u200d',
  "'",
  "'s",
  "'S",
  "'ſ",
  "'t",
  "'re",
  "'RE",
  "'ve",
  "'m",
  "'ll",
  "'Ll",
  "'d",
  "'x",
  '1',
  '12',
  '1234',
  '٣',
  '½',
  'Ⅻ',
  '𝟎',
  '7',
  ' ',
  '  ',
  '\t',
  '\n',
  '\r\n',
  '\r',
  '\u000b',
  '\u000c',
  '\u0085',
  '\u00a0',
  '\u1680',
  '\u2003',
  '\u2028',
  '\u3000',
  '\ufeff',
  '.',
  ',',
  '=',
  '^',
  '-',
  '—',
  '<',
  '>',
  '|',
  '(',
  ')',
  '"',
  '#',
  '\\',
  '▁',
  '▁▁',
  '<|end_of_text|>',
  '<|begin_of_text|>',
  '<|eot_id|>',
  '<s>',
  '</s>',
  '<|endoftext|>',
  '<unk>',
  '\ud800',
  '\udc00',
  '\u0000',
  '\u007f',
  '\u{10ffff}',
];

/** Text of up to `maxFragments` fragments, each repeated 1–`maxRepeat` times. */
export function adversarialText(maxFragments = 40, maxRepeat = 30): fc.Arbitrary<string> {
  return fc
    .array(fc.tuple(fc.constantFrom(...FRAGMENTS), fc.integer({ min: 1, max: maxRepeat })), { maxLength: maxFragments })
    .map((parts) => parts.map(([fragment, times]) => fragment.repeat(times)).join(''));
}

/** Adversarial fragments mixed with arbitrary Unicode strings (any code point, lone surrogates too). */
export function anyText(): fc.Arbitrary<string> {
  return fc.oneof(adversarialText(), fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 100 }));
}
