import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBuild } from '../../src/verify/verify.ts';
import { buildInTemp, removeTempDirs, tempDir } from '../helpers/build.ts';
import { startHubServer, type HubServer } from '../helpers/hubServer.ts';
import { SHARED_SAMPLES, skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';

// A build whose sources are hf:// URLs, served by the local fake hub (loopback only), against the
// same build from the local copies of the same files.
describe.skipIf(skipWithoutSharedSamples)('build-mix from the Hugging Face hub (local fake hub)', () => {
  let hub: HubServer;
  const saved = { endpoint: process.env.HF_ENDPOINT, cache: process.env.LONGMIX_CACHE, token: process.env.HF_TOKEN };
  beforeAll(async () => {
    hub = await startHubServer();
    process.env.HF_ENDPOINT = hub.endpoint;
    process.env.LONGMIX_CACHE = await tempDir('longmix-hub-cache-');
    delete process.env.HF_TOKEN;
  });
  afterAll(async () => {
    await hub.close();
    for (const [key, value] of [
      ['HF_ENDPOINT', saved.endpoint],
      ['LONGMIX_CACHE', saved.cache],
      ['HF_TOKEN', saved.token],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await removeTempDirs();
  });

  const recipe = (paths: { arxiv: string; cc: string; fineweb: string }) => `name: hub
originalWindowTokens: 512
rowTokens: 4096
output: { worldSize: 1, globalBatchRows: 1 }
sources:
  - { name: arxiv, dataset: redpajama-v1, paths: ["${paths.arxiv}"], window: long, budgetTokens: all, lengthTokens: { min: 513, max: 200000 } }
  - { name: cc, dataset: redpajama-v1, paths: ["${paths.cc}"], window: short, budgetTokens: all, lengthTokens: { min: 2, max: 512 } }
  - { name: fineweb, dataset: fineweb-edu, paths: ["${paths.fineweb}"], window: short, budgetTokens: all, lengthTokens: { min: 2, max: 512 } }
`;

  it('reads JSONL, .zst and Parquet from the hub, records hub identities, and matches the local build', async () => {
    const dir = await tempDir();
    const hubRecipe = path.join(dir, 'hub.yaml');
    await writeFile(
      hubRecipe,
      recipe({
        arxiv: 'hf://datasets/longmix-test/samples/data/arxiv.jsonl',
        cc: 'hf://datasets/longmix-test/samples/data/cc.jsonl.zst',
        fineweb: 'hf://datasets/longmix-test/samples/sample/10BT/*.parquet',
      }),
    );
    const localRecipe = path.join(dir, 'local.yaml');
    await writeFile(
      localRecipe,
      recipe({
        arxiv: path.join(SHARED_SAMPLES, 'redpajama-v1/arxiv.jsonl'),
        cc: path.join(SHARED_SAMPLES, 'redpajama-v1/redpajama-cc-2023-06-refined.jsonl.zst'),
        fineweb: path.join(SHARED_SAMPLES, 'fineweb-edu-like/*.parquet'),
      }).replace(
        /"\/[^"]*\*\.parquet"/,
        `"${path.join(SHARED_SAMPLES, 'fineweb-edu-like')}/ccnet-as-fineweb-edu.zstd.parquet", "${path.join(SHARED_SAMPLES, 'fineweb-edu-like')}/ccnet-as-fineweb-edu.snappy.parquet"`,
      ),
    );
    const fromHub = await buildInTemp(hubRecipe);
    const fromDisk = await buildInTemp(localRecipe);
    await verifyBuild(fromHub.outDir);
    expect(fromHub.manifest.inputs.map((i) => [i.path, i.sizeBytes, i.etag !== null])).toEqual([
      ['hf://datasets/longmix-test/samples@main/data/arxiv.jsonl', 1_218_793, true],
      ['hf://datasets/longmix-test/samples@main/data/cc.jsonl.zst', 27_780, true],
      ['hf://datasets/longmix-test/samples@main/sample/10BT/000_00000.parquet', 67_790, true],
      ['hf://datasets/longmix-test/samples@main/sample/10BT/001_00000.parquet', 99_386, true],
    ]);
    // LFS files carry their sha256, which equals the local file's.
    const local = new Map(fromDisk.manifest.inputs.map((i) => [i.sizeBytes, i.sha256]));
    for (const input of fromHub.manifest.inputs) if (input.sha256) expect(input.sha256).toBe(local.get(input.sizeBytes));
    for (const name of ['arxiv', 'cc', 'fineweb']) {
      expect(fromHub.manifest.sources[name].read, name).toEqual(fromDisk.manifest.sources[name].read);
      expect(fromHub.manifest.sources[name].placed.tokens, name).toBe(fromDisk.manifest.sources[name].placed.tokens);
    }
    // The JSONL files were downloaded once into the cache; a second build requests nothing more.
    const before = hub.stats({ repo: 'longmix-test/samples', revision: 'main', path: 'data/arxiv.jsonl' }).responses.length;
    await buildInTemp(hubRecipe);
    expect(hub.stats({ repo: 'longmix-test/samples', revision: 'main', path: 'data/arxiv.jsonl' }).responses.length).toBe(before);
  });

  it('reads plain https URLs and urls: lists (the RedPajama layout), never sending the hub token there, and maxFiles samples', async () => {
    const dir = await tempDir();
    const base = `${hub.endpoint}/datasets/longmix-test/samples/resolve/main`;
    await writeFile(path.join(dir, 'urls.txt'), `# RedPajama-style URL list\n${base}/data/cc.jsonl.zst\n\n${base}/data/cc.jsonl\n`);
    const file = path.join(dir, 'urls.yaml');
    await writeFile(
      file,
      recipe({ arxiv: `${base}/data/arxiv.jsonl`, cc: 'urls:urls.txt', fineweb: 'hf://datasets/longmix-test/samples/sample/10BT/*.parquet' })
        .replace('paths: ["urls:urls.txt"], window: short', 'paths: ["urls:urls.txt"], maxFiles: 1, window: short')
        .replace(
          'budgetTokens: all, lengthTokens: { min: 2, max: 512 } }\n  - { name: fineweb',
          'budgetTokens: all, lengthTokens: { min: 2, max: 512 } }\n  - { name: fineweb',
        ),
    );
    process.env.HF_TOKEN = 'hf_GOODTOKEN';
    try {
      const { manifest, outDir } = await buildInTemp(file);
      await verifyBuild(outDir);
      // maxFiles: 1 keeps the first URL in sorted order (cc.jsonl sorts before cc.jsonl.zst).
      expect(manifest.inputs.filter((i) => i.source === 'cc').map((i) => i.path)).toEqual([`${base}/data/cc.jsonl`]);
      // A plain URL has no listed hash: its identity is the SHA-256 of the bytes downloaded and read.
      const sha256 = createHash('sha256')
        .update(await readFile(path.join(SHARED_SAMPLES, 'redpajama-v1', 'arxiv.jsonl')))
        .digest('hex');
      expect(manifest.inputs.find((i) => i.source === 'arxiv')).toMatchObject({ path: `${base}/data/arxiv.jsonl`, sizeBytes: 1_218_793, sha256 });
      const served = hub.stats({ repo: 'longmix-test/samples', revision: 'main', path: 'data/arxiv.jsonl' }).responses;
      expect(served.length).toBeGreaterThan(0);
      expect(served.every((r) => r.authorization === null)).toBe(true);
    } finally {
      delete process.env.HF_TOKEN;
    }
  });

  it('a gated dataset without a token fails with what to do, before anything is written', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'gated.yaml');
    await writeFile(
      file,
      recipe({
        arxiv: 'hf://datasets/longmix-test/gated/data/cc.jsonl.zst',
        cc: 'hf://datasets/longmix-test/gated/data/cc.jsonl.zst',
        fineweb: 'hf://datasets/longmix-test/gated/data/*.parquet',
      }),
    );
    await expect(buildInTemp(file)).rejects.toThrow(
      /access denied \(HTTP 401\)\. This dataset may be gated: accept its terms on the hub page and set HF_TOKEN/,
    );
  });
});
