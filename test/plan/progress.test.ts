/**
 * The plan's progress (src/plan/select.ts `planBuild`, through `planFromCensus`): documents
 * selected, then rows packed, never going back, ending at the plan's exact counts.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/manifest/types.ts';
import { planFromCensus } from '../../src/plan/reduce.ts';
import type { PlanProgress } from '../../src/plan/select.ts';
import { smallPlanInputs } from '../helpers/planCensus.ts';

/** Uses selected (a repeat counts again) and rows packed (kept and dropped), from the manifest. */
function finalCounts(manifest: Manifest): PlanProgress {
  const documents = Object.values(manifest.sources).reduce((sum, s) => sum + s.cells.reduce((t, c) => t + c.achieved.documents, 0), 0);
  return { documents, rows: manifest.rows.total + manifest.rows.dropped.rows };
}

function progressOf(output: string): { reports: PlanProgress[]; manifest: Manifest } {
  const { loaded, tokenizer, units, files } = smallPlanInputs(output, 5000);
  const reports: PlanProgress[] = [];
  const plan = planFromCensus(loaded, tokenizer, units, [], files, undefined, undefined, (p) => reports.push({ ...p }));
  return { reports, manifest: plan.manifest };
}

/** True when each report's counts are at least the previous one's and one of them grew. */
const increasing = (reports: readonly PlanProgress[]) =>
  reports.every(
    (p, i) =>
      i === 0 ||
      (p.documents >= reports[i - 1].documents && p.rows >= reports[i - 1].rows && (p.documents > reports[i - 1].documents || p.rows > reports[i - 1].rows)),
  );

describe('plan progress', () => {
  it('reports documents selected, then rows packed, increasing, ending at the exact final counts', () => {
    const { reports, manifest } = progressOf('{ worldSize: 2, globalBatchRows: 4, targetShardBytes: 2000000 }');
    expect(finalCounts(manifest)).toEqual({ documents: 20035, rows: 7104 });
    expect(reports.at(-1)).toEqual(finalCounts(manifest));
    expect(increasing(reports)).toBe(true);
    // Selection first (every 4,096 uses and at each cell's end), rows 0 until packing starts.
    const selecting = reports.filter((p) => p.rows === 0);
    expect(selecting.map((p) => p.documents)).toEqual([4096, 5024, 5024 + 4096, 5024 + 2 * 4096, 5024 + 3 * 4096, 20035]);
    expect(reports.filter((p) => p.rows > 0).every((p) => p.documents === 20035)).toBe(true);
    expect(reports.filter((p) => p.rows > 0).length).toBeGreaterThan(10);
  });

  it('under lastBatchPolicy fill, leaves the search out and ends at the final plan', () => {
    const { reports, manifest } = progressOf('{ worldSize: 2, globalBatchRows: 64, targetShardBytes: 2000000, lastBatchPolicy: fill }');
    expect(manifest.rows.dropped.rows).toBe(0);
    expect(reports.at(-1)).toEqual(finalCounts(manifest));
    expect(increasing(reports)).toBe(true);
  });
});
