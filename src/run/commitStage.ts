/**
 * The commit stage: checks every completion record of the run, assembles the final manifest,
 * writes the requested exports (and their check) from the staged shards, and publishes the build
 * with no gap (src/commit/publish.ts). Then it removes the run's unit outputs from the work
 * directory (the run record and the commit's completion record stay, so a rerun of the same
 * command knows the build is done).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildFilesOf, publish } from '../commit/publish.ts';
import { PipelineError } from '../core/errors.ts';
import { faultPoint } from '../core/fault.ts';
import { sha256Hex, stableStringify } from '../core/stableJson.ts';
import { NNSCALER_FORMAT_COLUMNS, openNativeBuild, verifyExports } from '../export/index.ts';
import { writeHfDataset } from '../export/hf.ts';
import { writeMegatronDataset } from '../export/megatron.ts';
import type { Manifest } from '../manifest/types.ts';
import { collectRowStats, renderReport, REPORT_FILE } from '../report/index.ts';
import type { ShardInfo } from '../shard/writer.ts';
import { checkOutputs, type CompletionRecord } from './records.ts';
import type { RunRecord } from './runRecord.ts';
import { doneRecord, locateSystemError, planResult, stageDir, unitFingerprint, unitName } from './stages.ts';
import { writeDone } from './records.ts';

/** The commit's work files, in `<work>/commit/`. */
const commitPaths = (run: RunRecord) => {
  const dir = stageDir(run, 'commit');
  return { dir, extras: path.join(dir, 'extras'), journal: path.join(dir, 'journal.json') };
};

/**
 * The final manifest of a run: the plan's, with every shard's info from its completion record,
 * and the exports the run writes.
 * @throws PipelineError naming the first unit that is not done or whose outputs are missing.
 */
export async function finalManifest(run: RunRecord): Promise<Manifest> {
  const plan = await doneRecord(run, 'plan', 0);
  const result = await planResult(run);
  if (!plan || !result) throw new PipelineError('the plan is not done; the commit runs after every other stage');
  const text = await readFile(path.join(stageDir(run, 'plan'), 'manifest.json'), 'utf8');
  if (sha256Hex(text) !== plan.outputs['manifest.json']?.sha256)
    throw new PipelineError(`${path.join(stageDir(run, 'plan'), 'manifest.json')}: differs from the plan's completion record; rerun with --restart`);
  const manifest = JSON.parse(text) as Manifest;
  const shards: ShardInfo[] = [];
  for (let i = 0; i < result.shards.length; i++) {
    const record = await doneRecord(run, 'write', i);
    if (!record) throw new PipelineError(`write unit ${unitName('write', i)} (${result.shards[i]}) is not done; rerun the build to finish it`, { unit: i });
    shards.push(record.result as ShardInfo);
  }
  manifest.shards = shards;
  if (run.formats.length) manifest.exports = Object.fromEntries(run.formats.map((f) => [f, f]));
  manifest.report = REPORT_FILE;
  return manifest;
}

/**
 * Writes into `<work>/commit/extras/`, from the staged shards: the report (without wall-clock
 * times, so that a rebuild gives the same bytes) and the requested exports, checked token for token.
 */
async function stageExtras(run: RunRecord, manifest: Manifest): Promise<void> {
  const { extras } = commitPaths(run);
  await rm(extras, { recursive: true, force: true });
  await mkdir(extras, { recursive: true });
  const html = await renderReport(manifest, await collectRowStats(stageDir(run, 'write'), manifest));
  await writeFile(path.join(extras, REPORT_FILE), html);
  if (!run.formats.length) return;
  const native = await openNativeBuild(stageDir(run, 'write'), { manifest });
  const hfDir = run.formats.includes('hf') ? path.join(extras, 'hf') : undefined;
  const megatronPrefix = run.formats.includes('megatron') ? path.join(extras, 'megatron', manifest.recipe.name) : undefined;
  if (hfDir) await writeHfDataset(native, hfDir, { formatColumns: NNSCALER_FORMAT_COLUMNS });
  if (megatronPrefix) {
    await mkdir(path.dirname(megatronPrefix), { recursive: true });
    await writeMegatronDataset(native, megatronPrefix);
  }
  await verifyExports(native, { hfDir, megatronPrefix });
}

/**
 * Runs the commit stage (see the file header).
 * @param previous - the manifest in the output directory now (null for none).
 */
export async function runCommit(run: RunRecord, previous: Manifest | null): Promise<Manifest> {
  try {
    return await commit(run, previous);
  } catch (error) {
    // Before publishing began (no journal), the extras being staged are this attempt's alone: a
    // full disk must not stay full of them. After, they are what the rerun publishes.
    const paths = commitPaths(run);
    const staging = !existsSync(paths.journal);
    if (staging) await rm(paths.extras, { recursive: true, force: true }).catch(() => undefined);
    throw staging
      ? locateSystemError(error, `commit (writing the report and exports into ${paths.extras})`, paths.extras)
      : locateSystemError(error, `commit (publishing into ${run.outDir})`, run.outDir);
  }
}

async function commit(run: RunRecord, previous: Manifest | null): Promise<Manifest> {
  const paths = commitPaths(run);
  await faultPoint('commit:commit:start');
  const manifest = await finalManifest(run);
  const journalExists = await readFile(paths.journal).then(
    () => true,
    () => false,
  );
  // Once the journal exists, publishing has begun: what is staged stays as it is.
  if (!journalExists) {
    for (let i = 0; i < manifest.shards.length; i++) {
      const record = (await doneRecord(run, 'write', i)) as CompletionRecord;
      await checkOutputs(stageDir(run, 'write'), record);
    }
    await stageExtras(run, manifest);
    await faultPoint('commit:commit:exports-staged');
  }
  await publish({
    outDir: run.outDir,
    shardsDir: stageDir(run, 'write'),
    extrasDir: paths.extras,
    manifest,
    previous,
    journalFile: paths.journal,
    runId: run.runId,
  });
  const text = stableStringify(manifest);
  await faultPoint('commit:commit:before-done');
  await mkdir(paths.dir, { recursive: true });
  await writeDone(paths.dir, {
    format: 'longmix-unit-done/1',
    stage: 'commit',
    unit: unitName('commit', 0),
    fingerprint: unitFingerprint(run, 'commit', 0),
    outputs: {},
    result: { manifestSha256: sha256Hex(text), files: buildFilesOf(manifest) },
  });
  await cleanWork(run);
  return manifest;
}

/** Removes a committed run's unit outputs from the work directory, keeping its run record and the commit's completion record. */
export async function cleanWork(run: RunRecord): Promise<void> {
  for (const stage of ['census', 'plan', 'write'] as const) await rm(stageDir(run, stage), { recursive: true, force: true });
  const paths = commitPaths(run);
  await rm(paths.extras, { recursive: true, force: true });
  await rm(paths.journal, { force: true });
}
