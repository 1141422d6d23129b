/**
 * The read stage: every file of every source, in recipe order then sorted file order, as
 * {@link ReadItem}s.
 */
import type { SourceConfig } from '../config/schema.ts';
import type { ReadItem } from '../core/doc.ts';
import { InputError } from '../core/errors.ts';
import type { InputFile } from './files.ts';
import { readJsonl } from './jsonl.ts';
import { readParquet } from './parquet.ts';
import { readTextFile } from './text.ts';

/** A source with its files already expanded. */
export interface ResolvedSource {
  config: SourceConfig;
  files: InputFile[];
}

/**
 * Reads one file with the reader of the source's format.
 * @throws InputError (naming the file) when the file cannot be read or decompressed.
 */
export async function* readFile(source: SourceConfig, file: InputFile, onRawBytes?: (bytesRead: number) => void): AsyncGenerator<ReadItem> {
  try {
    if (source.format === 'jsonl') yield* readJsonl(source.name, file, source.textField, onRawBytes);
    else if (source.format === 'parquet') yield* readParquet(source.name, file, source.textField, onRawBytes);
    else yield* readTextFile(source.name, file, onRawBytes);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${file.relPath}: cannot read (${source.format}): ${(error as Error).message}`, { source: source.name, file: file.relPath }, { cause: error });
  }
}

/** Reads all sources in order; `onFileDone` reports each finished file's size for progress. */
export async function* readSources(
  sources: readonly ResolvedSource[],
  onRawBytes?: (bytesInFile: number) => void,
  onFileDone?: (file: InputFile) => void,
): AsyncGenerator<ReadItem> {
  for (const { config, files } of sources) {
    for (const file of files) {
      yield* readFile(config, file, onRawBytes);
      onFileDone?.(file);
    }
  }
}
