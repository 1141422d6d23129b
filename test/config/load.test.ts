import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadRecipe, parseRecipe } from '../../src/config/load.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { textFieldOf } from '../../src/read/datasets/context.ts';

const base = `name: t
originalWindowTokens: 512
rowTokens: 4096
sources:
  - name: web
    format: jsonl
    paths: [a.jsonl]
    window: short
    budgetTokens: all
    lengthTokens: { min: 2, max: 512 }
`;

describe('recipe schema', () => {
  it('fills defaults', () => {
    const r = parseRecipe(base, 'r.yaml');
    expect(r.seed).toBe(9176);
    expect(r.tokenizer).toBe('llama3');
    expect(r.onBadRecord).toBe('fail');
    expect(r.output).toEqual({ worldSize: 64, globalBatchRows: 64, targetShardBytes: 134_217_728, rowsPerBatch: 8, lastBatchPolicy: 'drop' });
    expect(r.sources[0].textField).toBeUndefined();
    expect(textFieldOf(r.sources[0])).toBe('text');
    expect(r.sources[0].maxRepetition).toBe(1);
    expect(r.scale).toBe(1);
    expect(r.packing).toEqual({ longDocPolicy: 'split', shortDocPolicy: 'split', longRowAttention: 'document' });
  });

  it('onBadFile: fail or skip, absent by default (= fail), anything else refused', () => {
    expect(parseRecipe(base, 'r.yaml').onBadFile).toBeUndefined();
    expect(parseRecipe(`onBadFile: skip\n${base}`, 'r.yaml').onBadFile).toBe('skip');
    expect(() => parseRecipe(`onBadFile: ignore\n${base}`, 'r.yaml')).toThrow(ConfigError);
  });

  it('rejects unknown keys with their path', () => {
    expect(() => parseRecipe(base + 'extra: 1\n', 'r.yaml')).toThrow('Invalid recipe r.yaml:\n  extra: unknown key (remove it or check its spelling)');
    expect(() => parseRecipe(base.replace('window: short', 'window: short\n    budget: 5'), 'r.yaml')).toThrow('  sources.0.budget: unknown key');
    expect(() => parseRecipe(base.replace('{ min: 2, max: 512 }', '{ min: 2, max: 512, mx: 3 }'), 'r.yaml')).toThrow(
      '  sources.0.lengthTokens.mx: unknown key',
    );
  });

  it('checks buckets: inside lengthTokens, disjoint, all shares or all budgets', () => {
    const withBuckets = (buckets: string) =>
      base.replace('    lengthTokens: { min: 2, max: 512 }\n', `    lengthTokens: { min: 2, max: 512 }\n    buckets: ${buckets}\n`);
    expect(parseRecipe(withBuckets('[{ min: 2, max: 100, share: 1 }, { min: 101, max: 512, share: 2 }]'), 'r.yaml').sources[0].buckets).toHaveLength(2);
    expect(() => parseRecipe(withBuckets('[{ min: 2, max: 100, share: 1 }, { min: 90, max: 512, share: 2 }]'), 'r.yaml')).toThrow(
      'sources.0.buckets.1: bucket 90..512 overlaps bucket 2..100',
    );
    expect(() => parseRecipe(withBuckets('[{ min: 2, max: 600, share: 1 }]'), 'r.yaml')).toThrow(
      'sources.0.buckets.0: bucket 2..600 must lie inside lengthTokens 2..512',
    );
    expect(() => parseRecipe(withBuckets('[{ min: 2, max: 100, share: 1 }, { min: 101, max: 512, budgetTokens: 5 }]'), 'r.yaml')).toThrow(
      'sources.0.buckets: give every bucket a share, or every bucket a budgetTokens, not a mix',
    );
    expect(() => parseRecipe(withBuckets('[{ min: 2, max: 100 }, { min: 101, max: 512 }]'), 'r.yaml')).toThrow(
      'sources.0.buckets: with several buckets, give each a share or a budgetTokens',
    );
    expect(() => parseRecipe(base.replace('budgetTokens: all', 'window: short'), 'r.yaml')).toThrow();
  });

  it('needs a global batch that is a multiple of the world size', () => {
    expect(() => parseRecipe(base + 'output: { worldSize: 3, globalBatchRows: 64 }\n', 'r.yaml')).toThrow(
      'output.globalBatchRows: globalBatchRows (64) must be a multiple of worldSize (3)',
    );
  });

  it('checks packing options', () => {
    expect(() => parseRecipe(base + 'packing: { longRowFiller: nope }\n', 'r.yaml')).toThrow('packing.longRowFiller: no source named "nope"');
    expect(() => parseRecipe(base + 'packing: { bufferTokens: 100 }\n', 'r.yaml')).toThrow(
      'packing.bufferTokens: bufferTokens (100) must be >= rowTokens (4096)',
    );
    expect(() => parseRecipe(base + 'packing: { longRowAttention: partial }\n', 'r.yaml')).toThrow(/packing\.longRowAttention: /);
    expect(parseRecipe(base + 'packing: { longRowFiller: web, longRowAttention: full }\n', 'r.yaml').packing).toEqual({
      longDocPolicy: 'split',
      shortDocPolicy: 'split',
      longRowAttention: 'full',
      longRowFiller: 'web',
    });
  });

  it('rejects a long source whose documents may fit the window, and rows shorter than the window', () => {
    expect(() => parseRecipe(base.replace('window: short', 'window: long'), 'r.yaml')).toThrow(
      "sources.0.lengthTokens.min: a long source's min (2) must be > originalWindowTokens (512)",
    );
    expect(() => parseRecipe(base.replace('rowTokens: 4096', 'rowTokens: 256'), 'r.yaml')).toThrow(
      'rowTokens: rowTokens (256) must be >= originalWindowTokens (512)',
    );
  });

  it('rejects wrong types, bad budgets and duplicate names', () => {
    expect(() => parseRecipe(base.replace('budgetTokens: all', 'budgetTokens: -5'), 'r.yaml')).toThrow(/sources\.0\.budgetTokens: /);
    expect(() => parseRecipe(base.replace('rowTokens: 4096', 'rowTokens: "big"'), 'r.yaml')).toThrow(/rowTokens: /);
    const twice = base + base.slice(base.indexOf('  - name: web'));
    expect(() => parseRecipe(twice, 'r.yaml')).toThrow('sources.1.name: duplicate source name "web"');
    expect(() => parseRecipe('name: [', 'r.yaml')).toThrow(/^Invalid recipe r\.yaml: not valid YAML/);
  });

  it('hashes the recipe without output.dir, and reports a missing file', async () => {
    const loaded = await loadRecipe(fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url)));
    expect(loaded.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.isFrozen(loaded.recipe.sources[0])).toBe(true);
    await expect(loadRecipe('no/such/recipe.yaml')).rejects.toThrow(ConfigError);
  });

  it('refuses a scale that would change nothing: every budget "all"', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'longmix-scale-'));
    try {
      const file = path.join(dir, 'r.yaml');
      await writeFile(file, base);
      await expect(loadRecipe(file, { scale: 0.5 })).rejects.toThrow(`Recipe ${file}: --scale 0.5 changes nothing, because every budget is "all"`);
      await writeFile(file, base + 'scale: 0.25\n');
      await expect(loadRecipe(file)).rejects.toThrow('scale: 0.25 changes nothing');
      await expect(loadRecipe(file, { scale: 1 })).resolves.toMatchObject({ recipe: { scale: 1 } });
      await writeFile(file, base.replace('budgetTokens: all', 'budgetTokens: 1000'));
      expect((await loadRecipe(file, { scale: 0.5 })).recipe.scale).toBe(0.5);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
