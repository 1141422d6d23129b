/**
 * Plain-text reader: one document per file (books such as PG19), decoded as strict UTF-8; a
 * gzip or zstd file is decompressed first (src/read/decompress.ts). Memory: the whole text, at
 * most {@link MAX_TEXT_BYTES}.
 */
import type { ReadItem } from '../core/doc.ts';
import { DecodeError } from './compression.ts';
import { openDecoded } from './decompress.ts';
import type { InputFile } from './files.ts';
import { corruptInput } from './jsonl.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Longest text file read as a document, decoded bytes (64 MiB, as the longest JSONL line,
 * src/read/jsonl.ts `MAX_LINE_BYTES`); a longer one is the bad record `text_too_long`, read no further.
 */
export const MAX_TEXT_BYTES = 64 * 1024 * 1024;

/**
 * Reads `file` whole as one document with id `<idPath>`. A file with no bytes (0 bytes, or
 * compressed data of nothing) yields nothing: the read stage counts it as `empty_file`. A text of
 * more than `maxBytes` (default {@link MAX_TEXT_BYTES}) is the bad record `text_too_long`.
 * @throws CorruptInputError when compressed data is truncated or corrupt; InputError for an
 *   unsupported compression.
 */
export async function* readTextFile(
  source: string,
  file: InputFile,
  onRawBytes?: (bytesRead: number) => void,
  maxBytes = MAX_TEXT_BYTES,
): AsyncGenerator<ReadItem> {
  const chunks: Buffer[] = [];
  let size = 0;
  const where = file.relPath;
  try {
    for await (const chunk of (await openDecoded(file.absPath, file.relPath, onRawBytes)).bytes) {
      size += chunk.length;
      if (size > maxBytes) {
        yield { kind: 'bad', bad: { source, reason: 'text_too_long', where, detail: `text is longer than ${maxBytes} bytes (MAX_TEXT_BYTES)` } };
        return;
      }
      chunks.push(chunk);
    }
  } catch (error) {
    throw error instanceof DecodeError ? corruptInput(file, error, 0) : error;
  }
  const bytes = Buffer.concat(chunks);
  if (bytes.length === 0) return;
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
