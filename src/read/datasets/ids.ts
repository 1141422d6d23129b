/**
 * Document ids that stay unique within a source: an id taken from the data (RedPajama `meta`,
 * Fineweb-Edu `id`, a StarCoder repository and path) is used as is the first time; a repeat gets
 * `@<file>:<line>` (or `@<file>#<row>`) appended, so two records never share an id.
 */

/** Returns `preferred` (or `where` when it is missing) made unique against `seen`, and records it. */
export function uniqueId(seen: Set<string>, preferred: string | null | undefined, where: string): string {
  let id = preferred && preferred.length ? preferred : where;
  if (seen.has(id)) id = `${id}@${where}`;
  seen.add(id);
  return id;
}
