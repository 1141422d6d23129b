/**
 * Fineweb-Edu (HuggingFaceFW/fineweb-edu): Parquet (`sample/10BT/*.parquet`,
 * `data/<dump>/*.parquet`), text in `text`, document id from the `id` column when present. The
 * `date` column is optional; `token_count` is another tokenizer's count and is never used.
 */
import type { ReadItem } from '../../core/doc.ts';
import type { InputFile } from '../files.ts';
import { parquetRecords } from '../parquet.ts';
import { textFromRecord } from '../record.ts';
import { textFieldOf, type ReaderContext } from './context.ts';
import { preferredId } from './ids.ts';

/** Reads one Fineweb-Edu Parquet file. */
export async function* readFinewebEdu(ctx: ReaderContext, file: InputFile): AsyncGenerator<ReadItem> {
  const field = textFieldOf(ctx.source);
  for await (const item of parquetRecords(ctx.source.name, file, [field], ['id'], ctx.onRawBytes)) {
    if (item.kind !== 'record') {
      yield item;
      continue;
    }
    const read = textFromRecord(ctx.source.name, item, item.record, field);
    const id = (item.record as { id?: unknown }).id;
    if (read.kind === 'doc') read.doc.id = preferredId(typeof id === 'string' ? id : null, item.idWhere);
    yield read;
  }
}
