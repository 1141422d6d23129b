/**
 * `verify`: re-reads every shard of a build and checks it against its manifest. The tests call
 * this same code. Checks, in order, stopping at the first violation:
 *
 * - each shard's size and SHA-256 equal the manifest's, and it is under 2 GiB;
 * - the shard count is a multiple of the world size, every rank holds the same number of rows,
 *   each row's id and rank agree with the manifest's schedule, and every global batch carries the
 *   long rows the mix's ratio gives it;
 * - every row has exactly `rowTokens` input ids and position ids; `sum(piece_lens) + num_pad = rowTokens`;
 * - `doc_lens` equals `piece_lens` (document attention) or is one entry of their sum (`full`
 *   attention, long rows);
 * - position ids are `0..len-1` within each piece (or `0..used-1` over a `full` row) and 0 at
 *   every padding token;
 * - short rows: max position < original window; long rows: max position >= original window and
 *   a piece longer than the window;
 * - every token id is in `[0, vocabSize)`; a piece starting at token 0 starts with BOS;
 * - each (source, document, start token, use) piece appears once in the whole output;
 * - per-source placed tokens and documents (pieces starting at token 0), row counts and padding
 *   equal the manifest's; each source's read tokens equal placed − repeated + truncated +
 *   last_batch + over_budget + too_short + too_long + outside_buckets.
 */
import path from 'node:path';
import { cellSums, lengthDropped } from '../manifest/ledger.ts';
import { InvariantError } from '../core/errors.ts';
import { sha256Hex } from '../core/stableJson.ts';
import type { Manifest } from '../manifest/types.ts';
import { readManifest } from '../manifest/write.ts';
import type { RowRecord } from '../shard/schema.ts';
import { readShardBytes, shardRows } from '../shard/reader.ts';
import { MAX_SHARD_BYTES } from '../shard/limits.ts';

/** What a successful verification saw. */
export interface VerifyReport {
  shards: number;
  rows: number;
  tokens: number;
  padTokens: number;
}

function fail(message: string, shard: string, row?: number): never {
  throw new InvariantError(`${shard}${row === undefined ? '' : ` row ${row}`}: ${message}`, { shard, row });
}

interface Tally {
  seen: Set<string>;
  /** Tokens and uses (pieces starting at token 0) per source. */
  placed: Map<string, number>;
  docs: Map<string, number>;
}

function checkRow(row: RowRecord, manifest: Manifest, shard: string, tally: Tally): void {
  const { rowTokens, originalWindowTokens, longRowAttention } = manifest.geometry;
  const { vocabSize, bosId } = manifest.tokenizer;
  const at = row.rowId;
  if (row.window !== 'short' && row.window !== 'long') fail(`window is "${row.window}"`, shard, at);
  if (row.inputIds.length !== rowTokens) fail(`input_ids has ${row.inputIds.length} tokens, expected ${rowTokens}`, shard, at);
  if (row.positionIds.length !== rowTokens) fail(`position_ids has ${row.positionIds.length} entries, expected ${rowTokens}`, shard, at);
  const n = row.pieceLens.length;
  if (n === 0) fail('row holds no piece', shard, at);
  for (const [name, list] of [
    ['piece_source', row.pieceSource],
    ['piece_doc_id', row.pieceDocId],
    ['piece_start', row.pieceStart],
    ['piece_repeat', row.pieceRepeat],
    ['piece_part', row.piecePart],
    ['piece_parts', row.pieceParts],
  ] as const) {
    if (list.length !== n) fail(`${name} has ${list.length} entries, piece_lens has ${n}`, shard, at);
  }
  const used = row.pieceLens.reduce((s, len) => s + len, 0);
  if (used + row.numPad !== rowTokens) fail(`sum(piece_lens) ${used} + num_pad ${row.numPad} != ${rowTokens}`, shard, at);
  const full = row.window === 'long' && longRowAttention === 'full';
  const expectedDocLens = full ? [used] : row.pieceLens;
  if (row.docLens.length !== expectedDocLens.length || row.docLens.some((len, i) => len !== expectedDocLens[i])) {
    fail(`doc_lens [${row.docLens.join(', ')}] should be [${expectedDocLens.join(', ')}] (${full ? 'full' : 'document'} attention)`, shard, at);
  }
  let offset = 0;
  let longestPiece = 0;
  for (let p = 0; p < n; p++) {
    const len = row.pieceLens[p];
    if (!(len > 0)) fail(`piece ${p} has length ${len}`, shard, at);
    for (let i = 0; i < len; i++) {
      const expected = full ? offset + i : i;
      if (row.positionIds[offset + i] !== expected)
        fail(`position_ids[${offset + i}] is ${row.positionIds[offset + i]}, expected ${expected} (piece ${p})`, shard, at);
    }
    longestPiece = Math.max(longestPiece, len);
    if (row.pieceStart[p] === 0 && row.inputIds[offset] !== bosId)
      fail(`piece ${p} starts its document but its first id is ${row.inputIds[offset]}, not BOS ${bosId}`, shard, at);
    const key = `${row.pieceSource[p]}\u0000${row.pieceDocId[p]}\u0000${row.pieceStart[p]}\u0000${row.pieceRepeat[p]}`;
    if (tally.seen.has(key))
      fail(
        `piece ${p} (${row.pieceSource[p]} ${row.pieceDocId[p]} from token ${row.pieceStart[p]}, use ${row.pieceRepeat[p]}) appears twice in the output`,
        shard,
        at,
      );
    tally.seen.add(key);
    tally.placed.set(row.pieceSource[p], (tally.placed.get(row.pieceSource[p]) ?? 0) + len);
    if (row.pieceStart[p] === 0) tally.docs.set(row.pieceSource[p], (tally.docs.get(row.pieceSource[p]) ?? 0) + 1);
    offset += len;
  }
  for (let i = offset; i < rowTokens; i++) if (row.positionIds[i] !== 0) fail(`padding position_ids[${i}] is ${row.positionIds[i]}, expected 0`, shard, at);
  for (let i = 0; i < rowTokens; i++) {
    const id = row.inputIds[i];
    if (!(id >= 0 && id < vocabSize)) fail(`input_ids[${i}] = ${id} is outside [0, ${vocabSize})`, shard, at);
  }
  const maxPosition = full ? used - 1 : longestPiece - 1;
  if (row.window === 'short' && maxPosition >= originalWindowTokens)
    fail(`short row has max position ${maxPosition} >= original window ${originalWindowTokens}`, shard, at);
  if (row.window === 'long' && maxPosition < originalWindowTokens)
    fail(`long row has max position ${maxPosition} < original window ${originalWindowTokens}`, shard, at);
  if (row.window === 'long' && longestPiece <= originalWindowTokens)
    fail(`long row holds no piece longer than the original window ${originalWindowTokens}`, shard, at);
}

/**
 * Verifies the build in `dir`.
 * @throws PipelineError when the manifest is missing; InvariantError naming the shard and row of the first violation.
 */
export async function verifyBuild(dir: string): Promise<VerifyReport> {
  const manifest = await readManifest(dir);
  const tally: Tally = { seen: new Set(), placed: new Map(), docs: new Map() };
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
  return { shards: manifest.shards.length, rows, tokens, padTokens };
}
