/**
 * Byte counts for people, in messages and tables.
 */

/** `bytes` as `512 B`, `33.8 kB`, `1.2 MB`, `3.4 GB` or `5.0 TB` (powers of 1000, one decimal above bytes). */
export function bytesText(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let u = 0;
  while (bytes >= 1000 && u < units.length - 1) [bytes, u] = [bytes / 1000, u + 1];
  return `${bytes.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}
