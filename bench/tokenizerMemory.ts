/**
 * Peak memory of one LLaMA-3 encoder on a corpus, for `pnpm bench --tokenizer` (bench/tokenizer.ts
 * runs it as a child process, one per encoder, so that encoders do not share a heap):
 *
 *   node --import tsx --expose-gc bench/tokenizerMemory.ts ENGINE REQUEST_JSON
 *
 * ENGINE: `wasm` (tiktoken alone, `encode_ordinary` of whole documents), `cache` (our tokenizer,
 * src/tokenize/bpe.ts, as a build's worker thread has it), `nocache` (the same without the piece
 * cache). REQUEST_JSON: `{ spec: TiktokenSpec, texts: string[] }`. Prints `{ peakExtraMiB, tokens }`:
 * the highest RSS sampled after each document, less the RSS once the request is loaded and
 * garbage-collected, before the encoder is built (so the encoder's tables, WASM memory, cache and
 * scratch count; the texts do not).
 */
import { readFileSync } from 'node:fs';
import { Tiktoken } from 'tiktoken';
import { createTokenizer } from '../src/tokenize/bpe.ts';
import type { TiktokenSpec } from '../src/tokenize/tokenizer.ts';

const [engine, requestFile] = process.argv.slice(2);
const { spec, texts } = JSON.parse(readFileSync(requestFile, 'utf8')) as { spec: TiktokenSpec; texts: string[] };
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
gc();
const mib = () => process.memoryUsage.rss() / 2 ** 20;
const baseline = mib();
let encode: (text: string) => Uint32Array | Promise<Uint32Array>;
if (engine === 'wasm') {
  const wasm = new Tiktoken(spec.ranks, spec.specialTokens, spec.pattern);
  encode = (text) => wasm.encode_ordinary(text);
} else if (engine === 'cache' || engine === 'nocache') {
  const tokenizer = createTokenizer(spec, engine === 'nocache' ? { pieceCacheEntries: 0 } : {});
  encode = (text) => tokenizer.encodeOrdinary(text);
} else throw new Error(`unknown engine ${engine}`);
let peak = mib();
let tokens = 0;
for (const text of texts) {
  tokens += (await encode(text)).length;
  peak = Math.max(peak, mib());
}
process.stdout.write(JSON.stringify({ peakExtraMiB: peak - baseline, tokens }));
