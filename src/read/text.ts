/**
 * Plain-text reader: one document per file (books such as PG19), decoded as strict UTF-8.
 */
import { readFile } from 'node:fs/promises';
import type { ReadItem } from '../core/doc.ts';
import type { InputFile } from './files.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads `file` whole as one document with id `<idPath>`. */
export async function* readTextFile(source: string, file: InputFile, onRawBytes?: (bytesRead: number) => void): AsyncGenerator<ReadItem> {
  const bytes = await readFile(file.absPath);
  onRawBytes?.(bytes.length);
  const where = file.relPath;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    yield { kind: 'bad', bad: { source, reason: 'invalid_utf8', where, detail: 'file is not valid UTF-8' } };
    return;
  }
  if (text.length === 0) {
    yield { kind: 'bad', bad: { source, reason: 'empty_text', where, detail: 'file is empty' } };
    return;
  }
  yield { kind: 'doc', doc: { source, id: file.idPath, idWhere: file.idPath, text } };
}
