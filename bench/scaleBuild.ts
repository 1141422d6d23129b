/**
 * `node --import tsx bench/scaleBuild.ts RECIPE WORKERS`: one build for bench/scale.ts, in this
 * fresh process; prints one JSON line: `{ seconds, peakMiB, bytesRead, documentsTokenized,
 * prefiltered, unitsRead, unitsUsed }` (bytes and units read from the census progress: every unit
 * that finished, used or not; `process.resourceUsage().maxRSS`, worker threads included).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadRecipe } from '../src/config/load.ts';
import { buildMix, type BuildProgress } from '../src/run/build.ts';

const [recipe, workers] = process.argv.slice(2);
const out = await mkdtemp(path.join(os.tmpdir(), 'longmix-scale-build-'));
let census: BuildProgress | undefined;
const start = process.hrtime.bigint();
try {
  const { manifest } = await buildMix({
    loaded: await loadRecipe(recipe),
    outDir: out,
    workers: Number(workers),
    onProgress: (p) => (p.stage === 'census' ? (census = p) : undefined),
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const web = manifest.sources.web;
  console.log(
    JSON.stringify({
      seconds,
      peakMiB: process.resourceUsage().maxRSS / 1024,
      bytesRead: census?.inputBytes ?? 0,
      documentsTokenized: web.read.documents,
      prefiltered: web.prefiltered.documents,
      unitsRead: census?.unitsDone ?? 0,
      unitsUsed: web.reading.used,
    }),
  );
} finally {
  await rm(out, { recursive: true, force: true });
}
