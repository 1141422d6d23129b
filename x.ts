import { readFileSync } from 'node:fs';
import { createTokenizer } from './src/tokenize/bpe.ts';
import { buildLlama3Spec } from './src/tokenize/llama3.ts';
import { LLAMA3_SPLIT_JS } from './src/tokenize/longPieces.ts';
import { Tiktoken } from 'tiktoken';
const spec = await buildLlama3Spec();
const enc = new Tiktoken(spec.ranks, spec.specialTokens, spec.pattern);
const text = JSON.parse(readFileSync('../shared/samples/redpajama-v1/arxiv.jsonl', 'utf8').split('\n')[0]).text;
const pieces = [...text.matchAll(LLAMA3_SPLIT_JS)].map((m) => m[0]);
// compare: tiktoken per piece concatenated vs whole
const per: number[] = []; for (const p of pieces) per.push(...enc.encode_ordinary(p));
const whole = Array.from(enc.encode_ordinary(text));
let i = 0; while (i < whole.length && per[i] === whole[i]) i++;
console.log('per-piece tiktoken differs at', i, whole.length, per.length);
// find the piece at that point
let n = 0; for (const p of pieces) { const k = enc.encode_ordinary(p).length; if (n + k > i) { console.log(JSON.stringify(p), JSON.stringify(text.slice(text.indexOf(p) - 20, text.indexOf(p) + 40))); break; } n += k; }
const dec = (ids: number[]) => new TextDecoder().decode(enc.decode(Uint32Array.from(ids)));
console.log(JSON.stringify(dec(whole.slice(i - 3, i + 5))), whole.slice(i-3,i+5).map(x=>JSON.stringify(dec([x]))).join('|'));
console.log(per.slice(i-3,i+5).map(x=>JSON.stringify(dec([x]))).join('|'));
const llama3 = (await import('llama3-tokenizer-js')).default;
let shown = 0;
for (const p of pieces) { if (p.length < 6) continue; const a = Array.from(enc.encode_ordinary(p)); const b = llama3.encode(p, { bos: false, eos: false }); if (JSON.stringify(a) !== JSON.stringify(b)) { console.log(JSON.stringify(p), a, b); if (++shown > 5) break; } }
const forced = createTokenizer(spec, { guardRunChars: 0, longPieceChars: 6 });
const f = Array.from(await forced.encodeOrdinary(text));
let j = 0; while (j < whole.length && f[j] === whole[j]) j++;
console.log('forced differs at', j, JSON.stringify(dec(whole.slice(j - 5, j + 5))));
console.log(whole.slice(j-5,j+5).map(x=>JSON.stringify(dec([x]))).join('|'));
console.log(f.slice(j-5,j+5).map(x=>JSON.stringify(dec([x]))).join('|'));
