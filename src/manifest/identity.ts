/**
 * A build's identity, and the mark that ties its report and exports to it.
 *
 * The build digest is the SHA-256 of the canonical JSON (sorted keys, src/core/stableJson.ts) of
 * its manifest without the two fields that list its derived files (`report`, `exports`): those
 * describe what was written beside the build, not the build, and a publication
 * (src/commit/publish.ts) switches the manifest with and without them. The report's head holds
 * `<meta name="longmix-build-sha256" content="<hex>">`; the exports record the same digest
 * (docs/format.md §11). `verify` reads them back, so a report or export of another build beside
 * a manifest is caught.
 */
import { open } from 'node:fs/promises';
import { sha256Hex, stableStringify } from '../core/stableJson.ts';
import type { Manifest } from './types.ts';

/** The `name` of the report's meta element that holds the build digest. */
export const REPORT_BUILD_META = 'longmix-build-sha256';

/** A manifest without the fields that list its derived files (`report`, `exports`). */
export function withoutDerived(manifest: Manifest): Manifest {
  const { report: _report, exports: _exports, ...core } = manifest;
  return core;
}

/** SHA-256 (hex) of the canonical JSON of `withoutDerived(manifest)`: the build digest (see the file header). */
export function buildSha256(manifest: Manifest): string {
  return sha256Hex(stableStringify(withoutDerived(manifest)));
}

/**
 * The build digest a report file's mark holds (read from its first 2 KiB).
 * @returns null when the file has no mark.
 * @throws the file-system error when the file cannot be read (ENOENT included).
 */
export async function reportBuildSha256(file: string): Promise<string | null> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(2048);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead).toString('utf8');
    return new RegExp(`<meta name="${REPORT_BUILD_META}" content="([0-9a-f]{64})">`).exec(head)?.[1] ?? null;
  } finally {
    await handle.close();
  }
}
