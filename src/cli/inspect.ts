/**
 * `inspect`: a build's overview, or one row's window, pieces (source, document id, length,
 * first and last decoded tokens) and padding.
 */
import path from 'node:path';
import { PipelineError } from '../core/errors.ts';
import { readManifest } from '../manifest/write.ts';
import { fmt, plural } from './summary.ts';
import { buildTokenizerSpec, createTokenizerFromSpec } from '../tokenize/registry.ts';
import { readShardBytes, shardRows } from '../shard/reader.ts';

const EDGE_TOKENS = 8;

/**
 * Formats the overview of the build in `dir`, or row `rowId` when given.
 * @throws PipelineError when the row does not exist or the manifest is missing.
 */
export async function inspectBuild(dir: string, rowId?: number): Promise<string> {
  const manifest = await readManifest(dir);
  if (rowId === undefined) {
    const lines = [
      `${dir}: ${plural(manifest.rows.total, 'row')} (short ${fmt(manifest.rows.short)}, long ${fmt(manifest.rows.long)}) in ${plural(manifest.shards.length, 'shard')}; row ${fmt(manifest.geometry.rowTokens)} tokens, window ${fmt(manifest.geometry.originalWindowTokens)}`,
    ];
    lines.push(
      `schedule: ${plural(manifest.schedule.steps, 'step')} of ${plural(manifest.schedule.globalBatchRows, 'row')} over ${plural(manifest.schedule.worldSize, 'rank')}; ${plural(manifest.rows.dropped.rows, 'row')} dropped (last batch)`,
    );
    for (const s of manifest.shards)
      lines.push(
        `  ${s.file}: rank ${s.rank}, ${plural(s.rows, 'row')} (short ${fmt(s.shortRows)}, long ${fmt(s.longRows)}), ${fmt(s.tokens)} tokens + ${fmt(s.padTokens)} padding, ${fmt(s.sizeBytes)} bytes`,
      );
    lines.push('Use --row N to see one row.');
    return lines.join('\n');
  }
  const place = manifest.schedule.positions[rowId];
  if (!place) throw new PipelineError(`row ${rowId} does not exist; rows are 0..${manifest.rows.total - 1}`, { rowId });
  const shard = manifest.shards[place[0]];
  const bytes = await readShardBytes(path.join(dir, shard.file)).catch((error) => {
    throw new PipelineError(`${shard.file}: cannot read: ${(error as Error).message}; run verify`, { file: shard.file }, { cause: error });
  });
  for (const row of shardRows(bytes, shard.file)) {
    if (row.rowId !== rowId) continue;
    const tokenizer = createTokenizerFromSpec(await buildTokenizerSpec(manifest.tokenizer.name as 'llama3' | 'phi3'));
    const show = (ids: Int32Array) => JSON.stringify(tokenizer.decode(ids));
    const step = Math.floor(rowId / manifest.schedule.globalBatchRows);
    const lines = [
      `row ${rowId} (${shard.file} row ${place[1]}, step ${step}, rank ${shard.rank}): window ${row.window}, ${plural(row.pieceLens.length, 'piece')}, doc_lens [${row.docLens.join(', ')}], ${plural(row.numPad, 'padding token')}`,
    ];
    let at = 0;
    row.pieceLens.forEach((len, p) => {
      const ids = row.inputIds.subarray(at, at + len);
      lines.push(
        `  piece ${p}: tokens [${at}, ${at + len}) source ${row.pieceSource[p]} doc ${row.pieceDocId[p]} part ${row.piecePart[p] + 1}/${row.pieceParts[p]}${row.pieceRepeat[p] ? ` use ${row.pieceRepeat[p] + 1}` : ''} from doc token ${row.pieceStart[p]}, ${len} tokens`,
        `    first: ${show(ids.subarray(0, EDGE_TOKENS))}`,
        `    last:  ${show(ids.subarray(Math.max(0, len - EDGE_TOKENS)))}`,
      );
      at += len;
    });
    if (row.numPad) lines.push(`  padding: tokens [${at}, ${at + row.numPad}) id ${row.inputIds[at]}`);
    tokenizer.free();
    return lines.join('\n');
  }
  throw new PipelineError(`${shard.file} does not hold row ${rowId} although the manifest says it does; run verify`, { rowId });
}
