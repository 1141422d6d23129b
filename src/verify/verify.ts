/**
 * `verify`: re-reads every shard of a build and checks it against its manifest. The tests call
 * this same code. Checks, in order, stopping at the first violation:
 *
 * - the manifest's tokenizer (vocabSize, BOS, EOS, pad, vocabulary SHA-256) is the one
 *   `buildTokenizerSpec(name)` gives;
 * - each shard's size and SHA-256 equal the manifest's, and it is at most `MAX_SHARD_BYTES`;
 * - the shard count is a multiple of the world size, every rank holds the same number of rows,
 *   each row's id and rank agree with the manifest's schedule, and every global batch carries the
 *   long rows the mix's ratio gives it;
 * - every row passes the row checks of ./row.ts (shape, doc_lens, position ids, windows, token id
 *   range, BOS/EOS only at document boundaries);
 * - each (source, document, start token, use) piece appears once in the whole output;
 * - per-source placed tokens and documents (pieces starting at token 0), row counts, padding and
 *   truncated pieces equal the manifest's; each source's read tokens equal placed − repeated +
 *   truncated + last_batch + over_budget + too_short + too_long + outside_buckets;
 * - copies of a document keep apart as the recipe says (./copies.ts).
 */
import path from 'node:path';
import { TOKENIZERS } from '../config/schema.ts';
import { cellSums, lengthDropped } from '../manifest/ledger.ts';
import { sha256Hex } from '../core/stableJson.ts';
import type { Manifest } from '../manifest/types.ts';
import { readManifest } from '../manifest/write.ts';
import { buildSha256, reportBuildSha256 } from '../manifest/identity.ts';
import { readShardBytes, shardRows } from '../shard/reader.ts';
import { MAX_SHARD_BYTES } from '../shard/limits.ts';
import { buildTokenizerSpec, type TokenizerName } from '../tokenize/registry.ts';
import type { TokenizerIdentity } from '../tokenize/tokenizer.ts';
import { checkCopies } from './copies.ts';
import { checkRow, fail, newTally } from './row.ts';

/** What a successful verification saw. */
export interface VerifyReport {
  shards: number;
  rows: number;
  tokens: number;
  padTokens: number;
}

/** Options of {@link verifyBuild}. */
export interface VerifyOptions {
  /**
   * The identity of the tokenizer the manifest names, as `buildTokenizerSpec(name)` gives it (tests
   * pass one they built); by default built once per name and process (about 1 s).
   */
  tokenizer?: TokenizerIdentity;
}

const identities = new Map<string, Promise<TokenizerIdentity>>();

/**
 * Checks the manifest's tokenizer against the tokenizer longmix builds under that name: the ids
 * every row is checked with (vocabSize, BOS, EOS, pad) and the vocabulary's SHA-256.
 */
async function checkTokenizer(manifest: Manifest, given?: TokenizerIdentity): Promise<void> {
  const { name } = manifest.tokenizer;
  if (!(TOKENIZERS as readonly string[]).includes(name))
    fail(`tokenizer.name "${name}" is not a tokenizer longmix knows (${TOKENIZERS.join(', ')})`, 'manifest.json');
  let identity = given;
  if (!identity) {
    if (!identities.has(name))
      identities.set(
        name,
        buildTokenizerSpec(name as TokenizerName).then((spec) => spec.identity),
      );
    identity = await identities.get(name)!;
  }
  for (const key of ['vocabSize', 'bosId', 'eosId', 'padId', 'vocabularySha256'] as const) {
    if (manifest.tokenizer[key] !== identity[key])
      fail(`tokenizer.${key} is ${JSON.stringify(manifest.tokenizer[key])}, but tokenizer "${name}" has ${JSON.stringify(identity[key])}`, 'manifest.json');
  }
}

/** The report a manifest lists must be there and be this build's (its mark, src/manifest/identity.ts). */
async function checkReport(dir: string, manifest: Manifest): Promise<void> {
  const file = manifest.report;
  if (file === undefined) return;
  const mark = await reportBuildSha256(path.join(dir, file)).catch((error: Error) => fail(`cannot read the report the manifest lists: ${error.message}`, file));
  if (mark !== buildSha256(manifest))
    fail(`is not this build's report (made from build sha256 ${mark ?? 'unknown'}); pnpm pipeline report ${dir} writes it again`, file);
}

/**
 * Verifies the build in `dir`.
 * @throws PipelineError when the manifest is missing; InvariantError naming the shard and row of the first violation.
 */
export async function verifyBuild(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const manifest = await readManifest(dir);
  await checkTokenizer(manifest, options.tokenizer);
  const tally = newTally();
  const shardOfRow = new Map<number, string>();
  const { schedule } = manifest;
  const G = schedule.globalBatchRows;
  const W = schedule.worldSize;
  if (manifest.shards.length % W !== 0) fail(`${manifest.shards.length} shards is not a multiple of the world size ${W}`, 'manifest.json');
  if (schedule.positions.length !== manifest.rows.total || schedule.steps * G !== manifest.rows.total) {
    fail(`schedule has ${schedule.positions.length} positions and ${schedule.steps} steps of ${G} rows, but ${manifest.rows.total} rows`, 'manifest.json');
  }
  const expected: number[][] = manifest.shards.map(() => []);
  schedule.positions.forEach(([shard, row], p) => {
    if (!expected[shard]) fail(`schedule position ${p} names shard ${shard}, which does not exist`, 'manifest.json');
    if (row >= manifest.shards[shard].rows)
      fail(`schedule position ${p} names row ${row} of ${manifest.shards[shard].file}, which has ${manifest.shards[shard].rows} rows`, 'manifest.json');
    if (expected[shard][row] !== undefined)
      fail(`schedule positions ${expected[shard][row]} and ${p} both name row ${row} of ${manifest.shards[shard].file}`, 'manifest.json');
    expected[shard][row] = p;
  });
  const rowsPerRank = new Array(W).fill(0);
  const longPerStep = new Array(schedule.steps).fill(0);
  let rows = 0;
  let tokens = 0;
  let padTokens = 0;
  let shortRows = 0;
  for (const [index, shard] of manifest.shards.entries()) {
    const bytes = await readShardBytes(path.join(dir, shard.file)).catch((error) => fail(`cannot read shard: ${(error as Error).message}`, shard.file));
    if (bytes.length !== shard.sizeBytes) fail(`size ${bytes.length} bytes, manifest says ${shard.sizeBytes}`, shard.file);
    if (bytes.length > MAX_SHARD_BYTES) fail(`size ${bytes.length} bytes is over the ${MAX_SHARD_BYTES}-byte limit`, shard.file);
    const sha256 = sha256Hex(bytes);
    if (sha256 !== shard.sha256) fail(`sha256 ${sha256} differs from the manifest's ${shard.sha256}`, shard.file);
    let inShard = 0;
    for (const row of shardRows(bytes, shard.file)) {
      const p = expected[index][inShard];
      if (p === undefined) fail(`row ${inShard} (row_id ${row.rowId}) has no position in the schedule`, shard.file, row.rowId);
      if (row.rowId !== p) fail(`row_id ${row.rowId}, but the schedule puts position ${p} here (row ${inShard})`, shard.file, row.rowId);
      const rank = Math.floor((p % G) / (G / W));
      if (rank !== shard.rank) fail(`position ${p} belongs to rank ${rank}, but the shard is rank ${shard.rank}'s`, shard.file, row.rowId);
      checkRow(row, manifest, shard.file, tally);
      shardOfRow.set(row.rowId, shard.file);
      inShard++;
      rowsPerRank[rank]++;
      if (row.window === 'long') longPerStep[Math.floor(p / G)]++;
      tokens += manifest.geometry.rowTokens - row.numPad;
      padTokens += row.numPad;
      if (row.window === 'short') shortRows++;
    }
    if (inShard !== shard.rows || inShard !== expected[index].length)
      fail(`holds ${inShard} rows, manifest says ${shard.rows} and the schedule ${expected[index].length}`, shard.file);
    rows += inShard;
  }
  if (rowsPerRank.some((n) => n !== rowsPerRank[0])) fail(`ranks hold different numbers of rows: ${rowsPerRank.join(', ')}`, 'manifest.json');
  const long = manifest.rows.long;
  longPerStep.forEach((n, s) => {
    const want = Math.floor(((s + 1) * long) / schedule.steps) - Math.floor((s * long) / schedule.steps);
    if (n !== want || schedule.longRowsPerStep[s] !== want)
      fail(`step ${s} carries ${n} long rows (schedule says ${schedule.longRowsPerStep[s]}); the mix ratio gives ${want}`, 'manifest.json');
  });
  const total = (what: string, actual: number, expected: number) => {
    if (actual !== expected) fail(`${what}: shards hold ${actual}, manifest says ${expected}`, 'manifest.json');
  };
  total('rows', rows, manifest.rows.total);
  total('short rows', shortRows, manifest.rows.short);
  total('document tokens', tokens, manifest.rows.tokens);
  total('padding tokens', padTokens, manifest.rows.padTokens);
  total('pieces', tally.seen.size, manifest.rows.pieces);
  total('truncated pieces (whole-looking pieces without EOS)', tally.truncatedPieces, manifest.rows.truncatedPieces ?? 0);
  checkCopies(manifest, tally, (rowId) => shardOfRow.get(rowId) ?? 'manifest.json');
  for (const [name, account] of Object.entries(manifest.sources)) {
    total(`tokens placed for source "${name}"`, tally.placed.get(name) ?? 0, account.placed.tokens);
    total(`documents placed for source "${name}"`, tally.docs.get(name) ?? 0, account.placed.documents);
    const sums = cellSums(account);
    total(
      `tokens read for source "${name}" (placed - repeated + truncated + last_batch + over_budget + too_short + too_long + outside_buckets)`,
      account.placed.tokens - sums.repeated + sums.truncated + sums.lastBatch + sums.overBudget + lengthDropped(account).tokens,
      account.read.tokens,
    );
    total(
      `tokens placed for source "${name}" (sum of its cells)`,
      account.cells.reduce((s, c) => s + c.placedTokens, 0),
      account.placed.tokens,
    );
  }
  for (const name of tally.placed.keys())
    if (!(name in manifest.sources)) fail(`rows hold source "${name}", which the manifest does not list`, 'manifest.json');
  await checkReport(dir, manifest);
  return { shards: manifest.shards.length, rows, tokens, padTokens };
}
