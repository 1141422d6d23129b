/**
 * Writing a whole small file so that readers see the old file or the new one, never a part:
 * the text goes to `<target>.tmp` (flushed), which is then renamed over `target`.
 */
import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes `text` (UTF-8) to `target` through `<target>.tmp`; on failure the temporary is removed
 * and the error (from the file system) is rethrown.
 */
export async function writeFileAtomic(target: string, text: string): Promise<void> {
  const tmp = `${target}.tmp`;
  try {
    await writeFile(tmp, text, { flush: true });
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
}
