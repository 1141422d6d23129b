/**
 * Tokenizer comparisons for `pnpm bench` (phase 0; `pnpm bench --tokenizer` prints only these),
 * one thread each, side by side in one run:
 *
 * 1. Long adversarial documents (scripts/adversarialTexts.ts): seconds for our LLaMA-3 encoder
 *    (src/tokenize/tiktokenEncoder.ts) against native tiktoken on the same ranks
 *    (bench/nativeTiktoken.ts), and our Phi-3 encoder. Seconds are CPU seconds of the process
 *    (`process.cpuUsage`, Python's `time.process_time`), which a machine shared with other jobs
 *    disturbs less than wall time; wall seconds beside.
 * 2. The long-piece threshold (src/tokenize/longPieces.ts): µs per piece for tiktoken WASM alone and
 *    for our long-piece BPE, by character class and length in UTF-8 bytes.
 * 3. Throughput on natural text: the recipe's documents (the shared samples) and a larger corpus
 *    of real text and code (every `.md`, `.ts` and `.js` file of the installed packages, sorted
 *    by path, up to `--tokenizer-corpus-mb`). Documents with a run of 2,000 or more
 *    non-white-space or white-space characters are left out of both, so that tiktoken WASM alone
 *    (quadratic on long pieces) can be timed on the same texts. Tokens/s per thread for: tiktoken
 *    WASM 1.0.22 alone, ours with the piece cache, ours without it, native tiktoken. Each of ours
 *    and WASM runs three times, interleaved; the fastest pass is shown. Then the peak memory of each
 *    encoder over the same texts, each in a child process (bench/tokenizerMemory.ts; native:
 *    bench/native_tiktoken.py), as RSS growth over the process with the texts loaded.
 * 4. Phi-3 on the recipe's documents: the library's BPE for ordinary words (production) against
 *    own code for every word, tokens/s with a cold word cache.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tiktoken } from 'tiktoken';
import { createLongPieceEncoder } from '../src/tokenize/longPieces.ts';
import { createTiktokenEncoder } from '../src/tokenize/tiktokenEncoder.ts';
import { buildPhi3Spec } from '../src/tokenize/phi3.ts';
import { createHfJsonTokenizer } from '../src/tokenize/hfJson.ts';
import type { TiktokenSpec } from '../src/tokenize/tokenizer.ts';
import { HEADLINE_TEXTS, MIXED_TEXTS, THRESHOLD_TEXTS, makeAdversarialText } from '../scripts/adversarialTexts.ts';
import { runNativeTiktoken } from './nativeTiktoken.ts';

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const cpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Times `f` once: CPU and wall seconds. */
function timed<T>(f: () => T): { value: T; cpu: number; wall: number } {
  const wall = performance.now();
  const cpu = cpuS();
  const value = f();
  return { value, cpu: cpuS() - cpu, wall: (performance.now() - wall) / 1000 };
}

/** Longest run of white-space or of non-white-space characters (UTF-16 units). */
function longestRun(text: string): number {
  let longest = 0;
  let run = 0;
  let previous = false;
  for (let i = 0; i < text.length; i++) {
    const space = /\s/.test(text[i]);
    run = i > 0 && space === previous ? run + 1 : 1;
    previous = space;
    if (run > longest) longest = run;
  }
  return longest;
}

/** Real text and code of the installed packages: `.md`, `.ts`, `.js` files sorted by path, up to `maxBytes`. */
function packageCorpus(maxBytes: number): string[] {
  const root = fileURLToPath(new URL('../node_modules/.pnpm', import.meta.url));
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const stat = statSync(full, { throwIfNoEntry: false });
      if (stat?.isDirectory()) walk(full);
      else if (stat?.isFile() && /\.(md|ts|js)$/.test(name) && stat.size < 2_000_000) files.push(full);
    }
  };
  walk(root);
  const texts: string[] = [];
  let total = 0;
  for (const file of files) {
    if (total >= maxBytes) break;
    const text = readFileSync(file, 'utf8');
    texts.push(text);
    total += Buffer.byteLength(text);
  }
  return texts;
}

/** One piece of `bytes` UTF-8 bytes (or the nearest below) per character class, for the threshold table. */
const PIECE_CLASSES: [string, (bytes: number) => string][] = [
  ['a', (b) => 'a'.repeat(b)],
  ['English word', (b) => 'Pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(Math.ceil(b / 45)).slice(0, b)],
  ['base64 letters', (b) => Array.from({ length: b }, (_, i) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'[(i * 7919 + 13) % 52]).join('')],
  ['DNA', (b) => Array.from({ length: b }, (_, i) => 'ACGT'[(7919 * i + 31 * Math.floor(i / 8)) % 4]).join('')],
  ['^', (b) => '^'.repeat(b)],
  ['spaces', (b) => ' '.repeat(b)],
  ['б (2 bytes)', (b) => 'б'.repeat(Math.floor(b / 2))],
  ['combining mark', (b) => '\u0301'.repeat(Math.floor(b / 2))],
  ['東 (3 bytes)', (b) => '東'.repeat(Math.floor(b / 3))],
  ['CJK varied', (b) => Array.from({ length: Math.floor(b / 3) }, (_, i) => String.fromCharCode(0x4e00 + ((7919 * i) % 20902))).join('')],
  ['🙂 (4 bytes)', (b) => '🙂'.repeat(Math.floor(b / 4))],
];
const PIECE_BYTES = [64, 96, 128, 160, 256, 1024];

/** Mean µs of `f` over at least `minMs` of calls. */
function microseconds(f: () => unknown, minMs = 40): number {
  let calls = 0;
  const start = performance.now();
  let now = start;
  do {
    f();
    calls++;
    now = performance.now();
  } while (now - start < minMs);
  return ((now - start) * 1000) / calls;
}

/** Peak memory of one engine over `texts` in a child process (bench/tokenizerMemory.ts), MiB, or the reason it failed. */
function childPeakMiB(engine: string, requestFile: string): string {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', fileURLToPath(new URL('./tokenizerMemory.ts', import.meta.url)), engine, requestFile],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  if (run.status !== 0) return `failed (${(run.stderr ?? '').trim().split('\n').pop()})`;
  return `${fmt((JSON.parse(run.stdout) as { peakExtraMiB: number }).peakExtraMiB, 1)} MiB`;
}

/** Prints the tokenizer comparisons; `texts` are the recipe's documents. */
export async function tokenizerBench(spec: TiktokenSpec, texts: string[], corpusMb: number, out: (line: string) => void): Promise<void> {
  const wasm = new Tiktoken(spec.ranks, spec.specialTokens, spec.pattern);
  const library = (text: string) => wasm.encode_ordinary(text);
  const longPiece = createLongPieceEncoder(spec.ranks);
  const ours = createTiktokenEncoder(library, longPiece);
  const phi3 = createHfJsonTokenizer(await buildPhi3Spec());
  const inputs = [...HEADLINE_TEXTS, ...MIXED_TEXTS, ...THRESHOLD_TEXTS];

  out('longmix bench: tokenizers, one thread each (CPU seconds; wall seconds in brackets)');
  const native = runNativeTiktoken(spec, 'time', inputs);
  if ('skipped' in native) out(`native tiktoken: SKIPPED, ${native.skipped}`);
  else out(`native tiktoken ${native.tiktoken} (Python ${native.python}) on the same LLaMA-3 ranks`);
  out('');
  out(
    `${'input'.padEnd(40)} ${'tokens'.padStart(10)} ${'ours LLaMA-3'.padStart(18)} ${'native'.padStart(18)} ${'ratio'.padStart(6)}  ${'ours Phi-3'.padStart(18)}`,
  );
  ours.encode('a'.repeat(100_000)); // build the long-piece tables and compile the merge loop before timing
  for (const t of inputs) {
    const text = makeAdversarialText(t);
    const mine = timed(() => ours.encode(text));
    const ids = mine.value;
    const phi = timed(() => phi3.encodeOrdinary(text));
    await phi.value;
    const n = 'skipped' in native ? undefined : native.inputs[t.name];
    const nativeCell = !n ? 'n/a' : n.error ? 'FAILS (panic)' : `${fmt(n.cpuS!, 3)} (${fmt(n.wallS!, 3)})`;
    const ratio = n?.cpuS ? fmt(mine.cpu / n.cpuS, 2) : '';
    const same = n?.tokens === undefined || n.tokens === ids.length ? '' : ` TOKEN COUNT DIFFERS: native ${n.tokens}`;
    out(
      `${t.name.padEnd(40)} ${fmt(ids.length).padStart(10)} ${`${fmt(mine.cpu, 3)} (${fmt(mine.wall, 3)})`.padStart(18)} ${nativeCell.padStart(18)} ${ratio.padStart(6)}  ${`${fmt(phi.cpu, 3)} (${fmt(phi.wall, 3)})`.padStart(18)}${same}`,
    );
  }

  out('');
  out('long-piece threshold: µs per piece, tiktoken WASM alone / our long-piece BPE (src/tokenize/longPieces.ts), by piece length in UTF-8 bytes');
  out(`${'class'.padEnd(16)}${PIECE_BYTES.map((b) => `${b} B`.padStart(16)).join('')}`);
  for (const [name, make] of PIECE_CLASSES) {
    const cells = PIECE_BYTES.map((bytes) => {
      const piece = make(bytes);
      const w = microseconds(() => library(piece));
      const h = microseconds(() => longPiece(piece));
      const same = Array.from(library(piece)).join() === Array.from(longPiece(piece)).join() ? '' : ' DIFFERS';
      return `${fmt(w, 1)} / ${fmt(h, 1)}${same}`.padStart(16);
    });
    out(`${name.padEnd(16)}${cells.join('')}`);
  }

  const noCache = createTiktokenEncoder(library, longPiece, { pieceCacheEntries: 0 });
  const corpora: [string, string[]][] = [
    ['recipe documents', texts],
    [`package text+code (≤ ${corpusMb} MB)`, packageCorpus(corpusMb * 1e6)],
  ];
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'longmix-tokbench-'));
  try {
    for (const [name, all] of corpora) {
      const docs = all.filter((text) => longestRun(text) < 2000);
      const bytes = docs.reduce((s, d) => s + Buffer.byteLength(d), 0);
      out('');
      out(`${name}: ${fmt(docs.length)} documents, ${fmt(bytes / 1e6, 2)} MB (${fmt(all.length - docs.length)} with a run ≥ 2,000 chars left out)`);
      // The cached encoder starts each pass empty: only repetition within the corpus helps it.
      const engines: [string, string, () => (text: string) => number][] = [
        ['tiktoken WASM 1.0.22 alone', 'wasm', () => (text) => library(text).length],
        [
          'ours, piece cache',
          'cache',
          () => {
            ours.clearCache();
            return (text) => ours.encode(text).length;
          },
        ],
        ['ours, no cache', 'nocache', () => (text) => noCache.encode(text).length],
      ];
      const best = new Map<string, { tokens: number; cpu: number; wall: number }>();
      for (let round = 0; round < 3; round++) {
        for (const [engine, , make] of engines) {
          const encode = make();
          const r = timed(() => docs.reduce((s, d) => s + encode(d), 0));
          const prev = best.get(engine);
          if (!prev || r.cpu < prev.cpu) best.set(engine, { tokens: r.value, cpu: r.cpu, wall: r.wall });
        }
      }
      const requestFile = path.join(scratch, 'request.json');
      writeFileSync(requestFile, JSON.stringify({ spec, texts: docs }));
      const memory = new Map(engines.map(([engine, key]) => [engine, childPeakMiB(key, requestFile)]));
      const nat = runNativeTiktoken(spec, 'time', [], { texts: docs, repeat: 2 });
      const rows: [string, number, number, number, string][] = [...best].map(([engine, r]) => [engine, r.tokens, r.cpu, r.wall, memory.get(engine)!]);
      if ('skipped' in nat) out(`  native tiktoken: SKIPPED, ${nat.skipped}`);
      else {
        const c = nat.corpus!;
        rows.push([`native tiktoken ${nat.tiktoken}`, c.tokens / 2, c.cpuS / 2, c.wallS / 2, `${fmt(c.peakExtraMiB, 1)} MiB`]);
      }
      const base = rows[0][1] / rows[0][2];
      for (const [engine, tokens, cpu, wall, peak] of rows) {
        out(
          `  ${engine.padEnd(28)} ${fmt(tokens / cpu).padStart(11)} tokens/s CPU (${fmt(tokens / wall)} wall), ${fmt(bytes / 1e6 / cpu, 2)} MB/s, ${fmt(tokens / cpu / base, 2)}× WASM, peak memory ${peak}`,
        );
      }
      if (new Set(rows.map((r) => r[1])).size > 1) out(`  NOTE: token counts differ: ${rows.map((r) => r[1]).join(', ')}`);
    }
    // Phi-3 (src/tokenize/hfJson.ts): the library merges words under LONG_WORD_CHARS, against own code on every word.
    const docs = texts.filter((text) => longestRun(text) < 2000);
    const bytes = docs.reduce((s, d) => s + Buffer.byteLength(d), 0);
    out('');
    out(`Phi-3 on the recipe documents (${fmt(bytes / 1e6, 2)} MB), a fresh word cache each pass, fastest of 2:`);
    const phiSpec = await buildPhi3Spec();
    for (const [engine, options] of [
      ['@huggingface/tokenizers BPE, own BPE from 4,096 chars', {}],
      ['own BPE (src/tokenize/hfBpe.ts) for every word', { longWordChars: 1 }],
    ] as const) {
      let best = { tokens: 0, cpu: Infinity };
      for (let round = 0; round < 2; round++) {
        const tokenizer = createHfJsonTokenizer(phiSpec, options);
        const start = cpuS();
        let tokens = 0;
        for (const d of docs) tokens += (await tokenizer.encodeOrdinary(d)).length;
        const cpu = cpuS() - start;
        if (cpu < best.cpu) best = { tokens, cpu };
      }
      out(`  ${engine.padEnd(54)} ${fmt(best.tokens / best.cpu).padStart(11)} tokens/s CPU, ${fmt(bytes / 1e6 / best.cpu, 2)} MB/s`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  wasm.free();
  phi3.free();
}
