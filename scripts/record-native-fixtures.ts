/**
 * `pnpm exec tsx scripts/record-native-fixtures.ts && pnpm format`: records native tiktoken's ids
 * (as SHA-256, count, head and tail) for every adversarial text of scripts/adversarialTexts.ts into
 * test/tokenize/fixtures/native-tiktoken-llama3.json, which test/tokenize/bpe.test.ts compares
 * our LLaMA-3 ids with. Needs Python and tiktoken (bench/nativeTiktoken.ts sets up .venv-bench).
 */
import { writeFileSync } from 'node:fs';
import { runNativeTiktoken } from '../bench/nativeTiktoken.ts';
import { buildLlama3Spec } from '../src/tokenize/llama3.ts';
import { HEADLINE_TEXTS, MIXED_TEXTS } from './adversarialTexts.ts';

const spec = await buildLlama3Spec();
const result = runNativeTiktoken(spec, 'fixtures', [...HEADLINE_TEXTS, ...MIXED_TEXTS]);
if ('skipped' in result) throw new Error(`native tiktoken unavailable: ${result.skipped}`);
const fixture = { recordedWith: `tiktoken ${result.tiktoken} (Python ${result.python})`, ranksSha256: spec.identity.vocabularySha256, inputs: result.inputs };
writeFileSync(new URL('../test/tokenize/fixtures/native-tiktoken-llama3.json', import.meta.url), JSON.stringify(fixture, null, 1) + '\n');
console.log(`recorded ${Object.keys(result.inputs).length} inputs with tiktoken ${result.tiktoken}`);
