/**
 * The read stage: every file of every source, in recipe order then sorted file order, as
 * {@link ReadItem}s, through the source's dataset adapter or plain format reader.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { SourceConfig } from '../config/schema.ts';
import type { ReadItem } from '../core/doc.ts';
import { InputError } from '../core/errors.ts';
import { textFieldOf, type ReaderContext } from './datasets/context.ts';
import { readFinewebEdu } from './datasets/finewebEdu.ts';
import { readRedPajamaV1 } from './datasets/redpajamaV1.ts';
import { readRedPajamaV2 } from './datasets/redpajamaV2.ts';
import { readStarcoderFiles, readStarcoderRepositories } from './datasets/starcoder.ts';
import { ensureLocal, expandPaths, type InputFile } from './files.ts';
import { isHubUrl } from './hub/location.ts';
import { isHttpUrl } from './urls.ts';
import { readJsonl } from './jsonl.ts';
import { readParquet } from './parquet.ts';
import { readTextFile } from './text.ts';

/** A source with its files already expanded. */
export interface ResolvedSource {
  config: SourceConfig;
  files: InputFile[];
  /** Directory that relative paths are relative to (the recipe's). */
  baseDir?: string;
}

/**
 * A sibling resolver: hub URLs are listed on the hub, other paths looked up relative to `baseDir`.
 * Null when the sibling does not exist (a 404 or an empty listing); any other failure (the hub
 * cannot be reached, access denied) is thrown, never taken for a missing file.
 */
export function localSiblings(baseDir: string): (relPath: string) => Promise<InputFile | null> {
  return async (relPath) => {
    if (isHubUrl(relPath) || isHttpUrl(relPath)) {
      const files = await expandPaths('sibling', [relPath], baseDir).catch((error: unknown) => {
        if (error instanceof InputError && (error.context.notFound === true || error.context.status === 404)) return [];
        throw error;
      });
      return files.length === 1 ? files[0] : null;
    }
    const absPath = path.resolve(baseDir, relPath);
    const s = await stat(absPath).catch(() => null);
    return s?.isFile() ? { relPath, idPath: relPath, absPath, sizeBytes: s.size } : null;
  };
}

/** A fresh reading context for `source`. */
export function readerContext(source: SourceConfig, baseDir = '.', onRawBytes?: (bytesRead: number) => void): ReaderContext {
  return { source, onRawBytes, resolveSibling: localSiblings(baseDir) };
}

function wrap(source: SourceConfig, file: InputFile, error: unknown): InputError {
  if (error instanceof InputError) return error;
  return new InputError(
    `${file.relPath}: cannot read (${source.dataset ?? source.format}): ${(error as Error).message}`,
    { source: source.name, file: file.relPath },
    { cause: error },
  );
}

/**
 * Reads one file with the reader of the source's dataset or format.
 * @throws InputError (naming the file) when the file cannot be read or decompressed.
 */
export async function* readFile(source: SourceConfig, file: InputFile, ctx: ReaderContext = readerContext(source)): AsyncGenerator<ReadItem> {
  try {
    const parquet = source.format === 'parquet' || source.dataset === 'fineweb-edu' || source.dataset === 'starcoder';
    if (!parquet) file = await ensureLocal(file);
    switch (source.dataset) {
      case 'redpajama-v1':
        yield* readRedPajamaV1(ctx, file);
        return;
      case 'redpajama-v2':
        yield* readRedPajamaV2(ctx, file);
        return;
      case 'fineweb-edu':
        yield* readFinewebEdu(ctx, file);
        return;
      case 'starcoder':
        yield* readStarcoderFiles(ctx, file);
        return;
      case 'text-files':
        yield* readTextFile(source.name, file, ctx.onRawBytes);
        return;
    }
    if (source.format === 'jsonl') yield* readJsonl(source.name, file, textFieldOf(source), ctx.onRawBytes);
    else if (source.format === 'parquet') yield* readParquet(source.name, file, textFieldOf(source), ctx.onRawBytes);
    else yield* readTextFile(source.name, file, ctx.onRawBytes);
  } catch (error) {
    throw wrap(source, file, error);
  }
}

/**
 * Reads all sources in order; `onFileDone` reports each finished file for progress. A file that
 * yields no record (document, bad or filtered) is reported as skipped input `empty_file`.
 */
export async function* readSources(
  sources: readonly ResolvedSource[],
  onRawBytes?: (bytesInFile: number) => void,
  onFileDone?: (file: InputFile) => void,
): AsyncGenerator<ReadItem> {
  for (const { config, files, baseDir } of sources) {
    const ctx = readerContext(config, baseDir, onRawBytes);
    if (config.dataset === 'starcoder' && config.repositories) {
      try {
        yield* readStarcoderRepositories(ctx, files, onFileDone);
      } catch (error) {
        throw wrap(config, files[0], error);
      }
      continue;
    }
    for (const file of files) {
      let records = 0;
      for await (const item of readFile(config, file, ctx)) {
        if (item.kind !== 'skipped') records++;
        yield item;
      }
      if (records === 0) yield { kind: 'skipped', skipped: { source: config.name, reason: 'empty_file', where: file.relPath } };
      onFileDone?.(file);
    }
  }
}
