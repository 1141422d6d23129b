/**
 * RedPajama-v2 (togethercomputer/RedPajama-Data-V2): documents in
 * `documents/<snapshot>/<shard>/<lang>_<head|middle|tail>.json.gz`, text in `raw_content`,
 * document id `<snapshot>/<shard>/<lang>_<bucket>.json.gz/<row>` (0-based line index, as the
 * dataset's own ids).
 *
 * Quality filters: the matching `quality_signals/<snapshot>/<shard>/<lang>_<bucket>.signals.json.gz`
 * is streamed side by side, one record per document line; its `id` must equal the document's.
 * A document-level signal is `quality_signals[name] = [[start, end, value]]`; a document passes
 * a filter when `min <= value <= max`. A null value does not pass. Documents that fail are counted
 * as `quality_filter` (documents and characters) and never tokenized.
 */
import type { ReadItem } from '../../core/doc.ts';
import { InputError } from '../../core/errors.ts';
import type { InputFile } from '../files.ts';
import { jsonlRecords, type RecordItem } from '../jsonl.ts';
import { textFromRecord } from '../record.ts';
import { textFieldOf, type ReaderContext } from './context.ts';

const LAYOUT = /(?:^|\/)documents\/([^/]+)\/([^/]+)\/([^/]+_(?:head|middle|tail)\.json\.gz)$/;

/** `<snapshot>/<shard>/<lang>_<bucket>.json.gz` of a documents path, or null when it is not in the layout. */
export function documentsKey(relPath: string): string | null {
  const m = LAYOUT.exec(relPath);
  return m ? `${m[1]}/${m[2]}/${m[3]}` : null;
}

/** The quality signals path that belongs to a documents path. */
export function signalsPath(relPath: string): string {
  return relPath.replace(/(^|\/)documents\//, '$1quality_signals/').replace(/\.json\.gz$/, '.signals.json.gz');
}

function signalValue(record: unknown, name: string, where: string, source: string): number | null {
  const signals = (record as { quality_signals?: Record<string, unknown> } | null)?.quality_signals;
  if (!signals || typeof signals !== 'object' || !(name in signals)) {
    throw new InputError(`${where}: quality signals record has no signal "${name}" (source "${source}"); check the signal name`, { where, signal: name });
  }
  const spans = signals[name];
  if (spans === null) return null;
  if (!Array.isArray(spans) || !Array.isArray(spans[0]) || spans[0].length !== 3) {
    throw new InputError(`${where}: signal "${name}" is not a list of [start, end, value] spans (source "${source}")`, { where, signal: name });
  }
  const value = spans[0][2];
  return value === null ? null : Number(value);
}

/** The records and bad records of a signals file; its blank lines are passed over. */
async function* recordsOnly(items: AsyncGenerator<RecordItem>): AsyncGenerator<Exclude<RecordItem, { kind: 'skipped' }>> {
  for await (const item of items) if (item.kind !== 'skipped') yield item;
}

/**
 * Reads one RedPajama-v2 documents file (with its quality signals when the source filters).
 * @throws InputError when the path is not in the RedPajama-v2 layout, the signals file is missing,
 *   or a signals record does not match its document.
 */
export async function* readRedPajamaV2(ctx: ReaderContext, file: InputFile): AsyncGenerator<ReadItem> {
  const source = ctx.source.name;
  const key = documentsKey(file.relPath);
  if (!key) {
    throw new InputError(`${file.relPath}: not a RedPajama-v2 documents file (expected documents/<snapshot>/<shard>/<lang>_<head|middle|tail>.json.gz)`, {
      source,
      file: file.relPath,
    });
  }
  const filters = ctx.source.qualityFilters ?? [];
  let signals: AsyncGenerator<Exclude<RecordItem, { kind: 'skipped' }>> | undefined;
  if (filters.length) {
    const sibling = await ctx.resolveSibling(signalsPath(file.relPath));
    if (!sibling)
      throw new InputError(`${file.relPath}: quality signals file ${signalsPath(file.relPath)} not found; the source has qualityFilters`, {
        source,
        file: file.relPath,
      });
    signals = recordsOnly(jsonlRecords(source, sibling));
  }
  const field = textFieldOf(ctx.source);
  for await (const item of jsonlRecords(source, file, ctx.onRawBytes)) {
    // Blank lines are not records on either side: they take no signals record.
    if (item.kind === 'skipped') {
      yield item;
      continue;
    }
    const signal = signals ? await signals.next() : undefined;
    if (item.kind === 'bad') {
      yield item;
      continue;
    }
    const id = `${key}/${item.position - 1}`;
    const read = textFromRecord(source, item, item.record, field);
    if (read.kind === 'doc') read.doc.id = id;
    if (signal) {
      if (signal.done) throw new InputError(`${signalsPath(file.relPath)}: ends before document ${item.where}`, { source, file: file.relPath });
      if (signal.value.kind === 'bad')
        throw new InputError(`${signal.value.bad.where}: ${signal.value.bad.detail} (quality signals of source "${source}")`, { source });
      const record = signal.value.record as { id?: unknown };
      if (record.id !== id)
        throw new InputError(
          `${signal.value.where}: signals record id ${JSON.stringify(record.id)} does not match document ${JSON.stringify(id)} at ${item.where}`,
          { source },
        );
      if (read.kind === 'doc') {
        const pass = filters.every((f) => {
          const value = signalValue(record, f.signal, signal.value.kind === 'record' ? signal.value.where : '', source);
          return value !== null && (f.min === undefined || value >= f.min) && (f.max === undefined || value <= f.max);
        });
        if (!pass) {
          yield { kind: 'filtered', filtered: { source, reason: 'quality_filter', where: item.where, chars: read.doc.text.length } };
          continue;
        }
      }
    }
    yield read;
  }
  if (signals && !(await signals.next()).done) throw new InputError(`${signalsPath(file.relPath)}: has more records than ${file.relPath}`, { source });
}
