/**
 * Document ids: the id the data gives (RedPajama `meta`, Fineweb-Edu `id`, a StarCoder repository
 * and path) when it gives one, else the record's location. Ids are not made unique while reading:
 * the plan stage resolves repeats across every unit of a source (a repeat gets `@<location>`
 * appended), so ids never depend on how the inputs were split into units or tasks.
 */

/** `preferred` when it is a non-empty string, else `where` (the record's location). */
export function preferredId(preferred: string | null | undefined, where: string): string {
  return preferred && preferred.length ? preferred : where;
}
