/**
 * What a dataset adapter gets besides the file it reads.
 */
import type { SourceConfig } from '../../config/schema.ts';
import type { InputFile } from '../files.ts';

/** Per-source reading state and services. */
export interface ReaderContext {
  source: SourceConfig;
  /** Called with the count of raw bytes read so far in the current file (progress). */
  onRawBytes?: (bytesRead: number) => void;
  /**
   * Finds a file beside the source's files by its path relative to the recipe (a RedPajama-v2
   * quality signals file); null when it does not exist.
   */
  resolveSibling: (relPath: string) => Promise<InputFile | null>;
}

/** The text field of a source: its own, else its dataset's, else `text`. */
export function textFieldOf(source: SourceConfig): string {
  if (source.textField) return source.textField;
  if (source.dataset === 'redpajama-v2') return 'raw_content';
  if (source.dataset === 'starcoder') return 'content';
  return 'text';
}
