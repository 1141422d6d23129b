/**
 * RedPajama-v1 (togethercomputer/RedPajama-Data-1T): JSONL per subset (`.jsonl`, and
 * `.jsonl.zst` for common_crawl), text in `text`. Document id from `meta` where present
 * (`arxiv:<arxiv_id>`, else `meta.id`, else `meta.url`), else `<file>:<line>`; common_crawl
 * records are flat (no `meta`) and take the file and line.
 */
import type { ReadItem } from '../../core/doc.ts';
import type { InputFile } from '../files.ts';
import { jsonlRecords } from '../jsonl.ts';
import { textFromRecord } from '../record.ts';
import { textFieldOf, type ReaderContext } from './context.ts';
import { preferredId } from './ids.ts';

/** The id a RedPajama-v1 `meta` object gives, or null. */
export function metaId(meta: unknown): string | null {
  if (!meta || typeof meta !== 'object') return null;
  const m = meta as Record<string, unknown>;
  if (typeof m.arxiv_id === 'string' && m.arxiv_id) return `arxiv:${m.arxiv_id}`;
  if ((typeof m.id === 'string' && m.id) || typeof m.id === 'number') return String(m.id);
  if (typeof m.url === 'string' && m.url) return m.url;
  return null;
}

/** Reads one RedPajama-v1 file. */
export async function* readRedPajamaV1(ctx: ReaderContext, file: InputFile): AsyncGenerator<ReadItem> {
  const field = textFieldOf(ctx.source);
  for await (const item of jsonlRecords(ctx.source.name, file, ctx.onRawBytes)) {
    if (item.kind !== 'record') {
      yield item;
      continue;
    }
    const read = textFromRecord(ctx.source.name, item, item.record, field);
    if (read.kind === 'doc') read.doc.id = preferredId(metaId((item.record as Record<string, unknown>).meta), item.idWhere);
    yield read;
  }
}
