/**
 * The embedded sample corpus behind `pipelines/sample.yaml`: synthetic, seeded text (no copy of
 * any real dataset) shaped like the LongRoPE2 sources (papers and books like RedPajama-v1, web
 * pages like RedPajama-v2, code like StarCoder, short documents like Fineweb-Edu), in every format
 * the readers support (JSONL plain, .gz, .zst; Parquet; text files) and in every length range of
 * the sample geometry (row 4,096 tokens, original window 512 tokens): short documents of every
 * size up to the window (the filler of long rows), short pages of a long source and short-source
 * documents too long for the window (both dropped by the length filter), long documents on both
 * sides of the papers' bucket edge (2,048 tokens), and one book longer than a row (split).
 *
 * This module is pure: {@link sampleCorpus} returns the same records on every call. The writer is
 * scripts/make-sample-corpus.ts; test/read/sampleCorpus.test.ts reads the committed files back and
 * compares them with these records.
 */
import { SplitMix64 } from '../src/core/rng.ts';

/** One file of the sample corpus. */
export interface SampleFile {
  /** Path relative to `data/sample/`. */
  path: string;
  format: 'jsonl' | 'jsonl.gz' | 'jsonl.zst' | 'parquet' | 'text';
  /** Records (jsonl, parquet) or the file's one document (text). */
  records: Record<string, unknown>[];
}

const WORDS = (
  'the of and to in is that for it as with was on be by this are from at or an which not have has but were can all their more one ' +
  'model data token window context length training attention position row document sequence batch shard budget source mix corpus ' +
  'river mountain village harbour winter garden letter journey evening morning stranger lantern bridge market question answer ' +
  'measured careful quiet bright ancient simple distant narrow certain gentle sudden hollow steady ' +
  'runs holds keeps finds turns opens reads writes packs counts splits joins carries follows returns'
).split(' ');
const EXTRAS = ['café', 'naïve', 'Zürich', '東京', '数据', 'München', 'αβγ', 'Привет', '🙂', '—', '½'];

function sentence(rng: SplitMix64): string {
  const n = 6 + rng.nextBelow(14);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(rng.nextBelow(40) === 0 ? EXTRAS[rng.nextBelow(EXTRAS.length)] : WORDS[rng.nextBelow(WORDS.length)]);
  words[0] = words[0][0].toUpperCase() + words[0].slice(1);
  return words.join(' ') + (rng.nextBelow(6) === 0 ? '?' : '.');
}

/** Prose of about `words` words in paragraphs. */
function prose(rng: SplitMix64, words: number, newline = '\n'): string {
  const paragraphs: string[] = [];
  let count = 0;
  while (count < words) {
    const sentences: string[] = [];
    for (let s = 2 + rng.nextBelow(5); s > 0 && count < words; s--) {
      const text = sentence(rng);
      count += text.split(' ').length;
      sentences.push(text);
    }
    paragraphs.push(sentences.join(' '));
  }
  return paragraphs.join(newline + newline);
}

/** Code-like text of about `lines` lines. */
function code(rng: SplitMix64, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const name = `${WORDS[rng.nextBelow(WORDS.length)]}_${WORDS[rng.nextBelow(WORDS.length)]}`;
    const indent = '    '.repeat(rng.nextBelow(3));
    out.push(
      rng.nextBelow(5) === 0 ? `${indent}# ${sentence(rng)}` : `${indent}${name} = pack(${rng.nextBelow(131072)}, "${WORDS[rng.nextBelow(WORDS.length)]}")`,
    );
  }
  return out.join('\n') + '\n';
}

const between = (rng: SplitMix64, lo: number, hi: number) => lo + rng.nextBelow(hi - lo + 1);

/** Every file of the sample corpus with its records, deterministic. */
export function sampleCorpus(): SampleFile[] {
  const rng = new SplitMix64(0x10_6e_30_1an);
  // web (RedPajama-v2-like, a long source): mostly long pages, and short ones the length filter
  // drops (the paper keeps only long documents of its long sources).
  const page = (i: number, words: number) => ({ text: prose(rng, words), url: `https://example.org/page/${i}` });
  const webPlain = Array.from({ length: 12 }, (_, i) => page(i, i % 3 === 2 ? between(rng, 15, 250) : between(rng, 450, 2400)));
  // Literal special-token strings are ordinary text: they must never become control ids.
  webPlain[3].text = `A page that quotes <|end_of_text|> and <|begin_of_text|> literally.\n\n${webPlain[3].text}`;
  const webGz = Array.from({ length: 12 }, (_, i) => page(100 + i, i % 4 === 3 ? between(rng, 15, 250) : between(rng, 450, 2400)));
  // edu (Fineweb-Edu-like, the short source and long-row filler): short documents of every size
  // up to the window, so that filler closes the gaps of long rows, and two too long for the window.
  const edu = Array.from({ length: 200 }, (_, i) => ({
    text: prose(rng, i % 100 === 99 ? 600 : i % 3 === 0 ? between(rng, 6, 60) : between(rng, 60, 340)),
    id: `<urn:uuid:sample-${i}>`,
    score: 2 + rng.nextBelow(300) / 100,
  }));
  const codeDocs = Array.from({ length: 12 }, (_, i) => ({ content: code(rng, between(rng, 60, 240)), repo: `example/repo-${i}` }));
  const papers = Array.from({ length: 18 }, (_, i) => ({
    text: prose(rng, i % 2 ? between(rng, 2000, 3400) : between(rng, 450, 1850)),
    meta: { arxiv_id: `2601.${String(10000 + i)}`, language: 'en' },
  }));
  return [
    { path: 'web/pages.jsonl', format: 'jsonl', records: webPlain },
    { path: 'web/pages.jsonl.gz', format: 'jsonl.gz', records: webGz },
    { path: 'edu/edu.parquet', format: 'parquet', records: edu },
    { path: 'code/code.jsonl.zst', format: 'jsonl.zst', records: codeDocs },
    { path: 'papers/papers.jsonl', format: 'jsonl', records: papers },
    { path: 'books/long-book.txt', format: 'text', records: [{ text: `THE LONG BOOK\r\n\r\n${prose(rng, 7000, '\r\n')}\r\n` }] },
    { path: 'books/short-book.txt', format: 'text', records: [{ text: `THE SHORT BOOK\n\n${prose(rng, 1800)}\n` }] },
  ];
}
