/**
 * Early stop: a source with numeric budgets reads its files in a seeded order and the build uses
 * exactly the shortest prefix of that order in which every cell holds oversample × its plan; the
 * bytes are the same with 1 and 2 workers (however many units were read past the prefix).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/config/load.ts';
import { buildMix } from '../../src/run/build.ts';
import { CensusQueue, readOrder } from '../../src/run/earlyStop.ts';
import { createRunRecord } from '../../src/run/runRecord.ts';
import { createTokenizerFromSpec } from '../../src/tokenize/registry.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { filesOf, llama3Spec, removeTempDirs, tempDir, writeWordFiles } from '../helpers/build.ts';

afterAll(removeTempDirs);

describe('early stop', () => {
  it('uses the shortest prefix of the seeded file order that meets oversample × the plan, whatever the worker count', async () => {
    const dir = await tempDir();
    // 12 files of 20 documents each, 30..119 words.
    const texts = await writeWordFiles(dir, 12);
    const budget = 3000;
    await writeFile(
      path.join(dir, 'r.yaml'),
      `name: es\noriginalWindowTokens: 256\nrowTokens: 1024\noutput: { worldSize: 1, globalBatchRows: 1 }\nsources:\n  - { name: web, format: jsonl, paths: ['part-*.jsonl'], window: short, budgetTokens: ${budget}, oversample: 1.5, lengthTokens: { min: 2, max: 256 } }\n`,
    );
    const loaded = await loadRecipe(path.join(dir, 'r.yaml'));
    const spec = await llama3Spec();
    // The expected prefix, worked out independently: each file's tokens, summed in the seeded order.
    const run = await createRunRecord(loaded, spec.identity, [], path.join(dir, 'o'), path.join(dir, 'w'));
    const order = readOrder(run, 'web');
    expect([...order].sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(order).not.toEqual([...Array(12).keys()]); // seeded, not sorted
    const tokenizer = createTokenizerFromSpec(spec);
    const fileTokens: number[] = [];
    for (const docs of texts) {
      let sum = 0;
      for (const text of docs) sum += (await tokenizer.encodeDocument(text)).length;
      fileTokens.push(sum);
    }
    tokenizer.free();
    let used = 0;
    for (let sum = 0; sum < 1.5 * budget; used++) sum += fileTokens[run.census[order[used]].inputs[0]];
    expect(used).toBeGreaterThan(1);
    expect(used).toBeLessThan(12);

    const one = await buildMix({ loaded, outDir: await tempDir(), workers: 1, tokenizerSpec: spec });
    const two = await buildMix({ loaded, outDir: await tempDir(), workers: 2, tokenizerSpec: spec });
    expect(await filesOf(two.outDir)).toEqual(await filesOf(one.outDir));
    await verifyBuild(one.outDir);
    const web = one.manifest.sources.web;
    expect(web.reading).toEqual({ units: 12, used, stop: 'budgets_met', oversample: 1.5 });
    const usedFiles = order.slice(0, used).map((u) => run.inputs[run.census[u].inputs[0]].relPath);
    expect(one.manifest.inputs.map((i) => i.path)).toEqual([...usedFiles].sort());
    expect(web.read.tokens).toBe(usedFiles.reduce((s, f) => s + fileTokens[Number(f.slice(5, 7))], 0));
    expect(web.files).toBe(used);
  });

  it('a budget of "all" reads every file; a dataset too small for the oversample is read whole and says so', async () => {
    const dir = await tempDir();
    for (let f = 0; f < 3; f++)
      await writeFile(path.join(dir, `p${f}.jsonl`), JSON.stringify({ text: 'river mountain city forest ocean desert valley island bridge garden' }) + '\n');
    const recipe = (budget: string) =>
      `name: es\noriginalWindowTokens: 256\nrowTokens: 1024\noutput: { worldSize: 1, globalBatchRows: 1 }\nsources:\n  - { name: web, format: jsonl, paths: ['p*.jsonl'], window: short, budgetTokens: ${budget}, maxRepetition: 10, lengthTokens: { min: 2, max: 256 } }\n`;
    await writeFile(path.join(dir, 'all.yaml'), recipe('all'));
    await writeFile(path.join(dir, 'big.yaml'), recipe('100'));
    const spec = await llama3Spec();
    const all = await buildMix({ loaded: await loadRecipe(path.join(dir, 'all.yaml')), outDir: await tempDir(), workers: 1, tokenizerSpec: spec });
    expect(all.manifest.sources.web.reading).toEqual({ units: 3, used: 3, stop: 'all_read', oversample: 1.5 });
    const big = await buildMix({ loaded: await loadRecipe(path.join(dir, 'big.yaml')), outDir: await tempDir(), workers: 1, tokenizerSpec: spec });
    expect(big.manifest.sources.web.reading).toEqual({ units: 3, used: 3, stop: 'exhausted', oversample: 1.5 });
  });

  it('projects what the census will read from the yield of the units done (for the progress bar)', async () => {
    const dir = await tempDir();
    await writeWordFiles(dir, 12);
    await writeFile(
      path.join(dir, 'r.yaml'),
      `name: es\noriginalWindowTokens: 256\nrowTokens: 1024\noutput: { worldSize: 1, globalBatchRows: 1 }\nsources:\n  - { name: web, format: jsonl, paths: ['part-*.jsonl'], window: short, budgetTokens: 3000, oversample: 1.5, lengthTokens: { min: 2, max: 256 } }\n`,
    );
    const spec = await llama3Spec();
    const run = await createRunRecord(await loadRecipe(path.join(dir, 'r.yaml')), spec.identity, [], path.join(dir, 'o'), path.join(dir, 'w'));
    const order = readOrder(run, 'web');
    const bytesOf = (u: number) => run.inputs[run.census[u].inputs[0]].sizeBytes;
    const bytesOfFirst = (n: number) => order.slice(0, n).reduce((s, u) => s + bytesOf(u), 0);
    // Every unit holds 1,000 in-cell tokens once done; the target is 1.5 × 3,000 = 4,500.
    const done = new Set<number>();
    const queue = new CensusQueue(run, async (u) => (done.has(u) ? [1000] : null));
    expect(await queue.load()).toBe(12);
    // Nothing done: the whole dataset.
    expect(queue.projection(bytesOf)).toEqual({ units: 12, inputBytes: bytesOfFirst(12) });
    const started = [queue.next()!, queue.next()!, queue.next()!];
    expect(started).toEqual(order.slice(0, 3));
    for (const u of started.slice(0, 2)) {
      done.add(u);
      await queue.doneUnit(u);
    }
    // 2 units hold 2,000 tokens: 4,500 needs ceil(2 × 4,500 / 2,000) = 5 units.
    expect(queue.projection(bytesOf)).toEqual({ units: 5, inputBytes: bytesOfFirst(5) });
    started.push(queue.next()!, queue.next()!, queue.next()!);
    for (const u of started.slice(2, 5)) {
      done.add(u);
      await queue.doneUnit(u);
    }
    // The prefix is known (5 units, 5,000 tokens): what was started, the 6th running unit included.
    expect(queue.next()).toBeUndefined();
    expect(queue.projection(bytesOf)).toEqual({ units: 6, inputBytes: bytesOfFirst(6) });
  });
});
