/**
 * Expands a source's paths and globs into a sorted, de-duplicated list of files.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { InputError } from '../core/errors.ts';

/** One input file of a source. */
export interface InputFile {
  /** Path relative to the recipe directory, with `/` separators (what manifests and doc ids show). */
  relPath: string;
  /** Absolute path on this machine. */
  absPath: string;
  /** File size, bytes. */
  sizeBytes: number;
}

/**
 * Resolves `patterns` (files or globs relative to `baseDir`) to files sorted by `relPath`.
 * @throws InputError when a plain path does not exist or a glob matches no file.
 */
export async function expandPaths(source: string, patterns: readonly string[], baseDir: string): Promise<InputFile[]> {
  const rel = new Set<string>();
  for (const pattern of patterns) {
    if (isDynamicPattern(pattern)) {
      const matches = await glob(pattern, { cwd: baseDir, onlyFiles: true, expandDirectories: false });
      if (matches.length === 0) throw new InputError(`Source "${source}": pattern "${pattern}" matches no file under ${baseDir}`, { source, pattern });
      for (const m of matches) rel.add(path.posix.normalize(m));
    } else {
      rel.add(path.posix.normalize(pattern.split(path.sep).join('/')));
    }
  }
  const files: InputFile[] = [];
  for (const relPath of [...rel].sort()) {
    const absPath = path.resolve(baseDir, relPath);
    let sizeBytes: number;
    try {
      const s = await stat(absPath);
      if (!s.isFile()) throw new Error('not a regular file');
      sizeBytes = s.size;
    } catch (error) {
      throw new InputError(`Source "${source}": cannot read input file ${relPath} (${absPath}): ${(error as Error).message}`, { source, file: relPath }, { cause: error });
    }
    files.push({ relPath, absPath, sizeBytes });
  }
  return files;
}
