/**
 * Packing simulation for `pnpm bench`: padding of the LongRoPE2 §4.1 mix at the paper's geometry
 * (row 131,072, window 8,192), per length bucket, on synthetic document lengths, through the
 * real planner (`planPacking`, the same code a build runs).
 *
 * Lengths (tokens, BOS/EOS included) are drawn with a seeded SplitMix64, because no census of the
 * full datasets is available here: long documents are log-uniform within each bucket (8,193–100,000
 * and 100,001–200,000, budgets split 3 : 4 as in Table 1); Fineweb-Edu documents are log-uniform in
 * 64–8,192. These are stand-ins for the real distributions, stated as such in the output.
 */
import { SplitMix64 } from '../src/core/rng.ts';
import type { LengthCensus } from '../src/census/lengthCensus.ts';
import { planPacking, type PackDoc } from '../src/pack/plan.ts';

/** One simulated cell. */
interface SimCell {
  source: string;
  bucket: string;
  min: number;
  max: number;
  budgetTokens: number;
  window: 'short' | 'long';
}

/** The paper's §4.1 mix (RedPajama-v1 4.5B, RedPajama-v2 2.5B, StarCoder 2B long; Fineweb-Edu 1B short), times `scale`. */
export function paperCells(scale: number): SimCell[] {
  const long = (source: string, billions: number): SimCell[] => [
    { source, bucket: '8k-100k', min: 8193, max: 100_000, budgetTokens: Math.round((billions * 1e9 * scale * 3) / 7), window: 'long' },
    { source, bucket: '100k-200k', min: 100_001, max: 200_000, budgetTokens: Math.round((billions * 1e9 * scale * 4) / 7), window: 'long' },
  ];
  return [
    ...long('rpv1', 4.5),
    ...long('rpv2', 2.5),
    ...long('starcoder', 2),
    { source: 'fineweb-edu', bucket: '64-8k', min: 64, max: 8192, budgetTokens: Math.round(1e9 * scale), window: 'short' },
  ];
}

/** Draws `lengthOf(cell, rng)` documents per cell up to its budget (the last one may go over, as selection does). */
function drawDocs(cells: SimCell[], seed: bigint, lengthOf: (c: number, rng: SplitMix64) => number): PackDoc[] {
  const rng = new SplitMix64(seed);
  const docs: PackDoc[] = [];
  cells.forEach((cell, c) => {
    let total = 0;
    while (total < cell.budgetTokens) {
      const lengthTokens = lengthOf(c, rng);
      docs.push({ doc: docs.length, source: cell.source, id: `${cell.bucket}/${docs.length}`, repeat: 0, cell: c, lengthTokens, window: cell.window });
      total += lengthTokens;
    }
  });
  return docs;
}

/** A uniform draw in [0, 1) from 53 bits of `rng`. */
const unit = (rng: SplitMix64) => Number(rng.next() >> 11n) / 2 ** 53;

/** Synthetic documents: lengths log-uniform within each cell's [min, max]. */
export function simulateDocs(cells: SimCell[], seed: bigint): PackDoc[] {
  return drawDocs(cells, seed, (c, rng) => {
    const { min, max } = cells[c];
    return Math.min(max, Math.floor(Math.exp(Math.log(min) + unit(rng) * (Math.log(max + 1) - Math.log(min)))));
  });
}

/** Geometry and cells of one simulation. */
interface Simulation {
  title: string;
  cells: SimCell[];
  docs: PackDoc[];
  rowTokens: number;
  originalWindowTokens: number;
  /** Short source to fill long rows with, in the second run. */
  filler: string | undefined;
}

/** Pads per cell and in all, with and without filling long rows, through the real planner. */
function report(sim: Simulation, bufferRows: number): string[] {
  const lines = [sim.title];
  const pct = (n: number, of: number) => ((100 * n) / Math.max(1, of)).toFixed(3);
  for (const filler of sim.filler ? [undefined, sim.filler] : [undefined]) {
    const started = process.hrtime.bigint();
    const plan = planPacking(sim.docs, {
      rowTokens: sim.rowTokens,
      originalWindowTokens: sim.originalWindowTokens,
      seed: 9176,
      bufferTokens: bufferRows * sim.rowTokens,
      longDocPolicy: 'split',
      shortDocPolicy: 'split',
      fillerSource: filler,
      cellCount: sim.cells.length,
    });
    const planS = Number(process.hrtime.bigint() - started) / 1e9;
    const pad = plan.rows.reduce((s, r) => s + r.numPad, 0);
    const rowTokens = plan.rows.length * sim.rowTokens;
    const perCell = sim.cells.map((c, i) => `${c.source} ${c.bucket} ${pct(plan.cells[i].padTokens, rowTokens)}%`).join(', ');
    lines.push(
      `  filler ${filler ?? 'none'}: ${plan.rows.length.toLocaleString('en-US')} rows (${plan.rows.filter((r) => r.window === 'long').length} long), padding ${pct(pad, rowTokens)}% of row tokens (planned in ${planS.toFixed(2)} s)`,
    );
    lines.push(`    padding by cell of each row's longest piece (share of all row tokens): ${perCell}`);
  }
  return lines;
}

/** Padding of the paper's mix on synthetic lengths, with and without filling long rows from Fineweb-Edu. */
export function simulatePacking(scale: number, bufferRows: number): string[] {
  const cells = paperCells(scale);
  const docs = simulateDocs(cells, 0x5eedn);
  const title = `packing simulation: LongRoPE2 §4.1 mix x ${scale} (${docs.length.toLocaleString('en-US')} synthetic documents, log-uniform lengths per bucket), row 131,072, window 8,192, buffer ${bufferRows} rows`;
  return report({ title, cells, docs, rowTokens: 131_072, originalWindowTokens: 8192, filler: 'fineweb-edu' }, bufferRows);
}

/**
 * Padding of a recipe's own mix on its real length distribution (a census from
 * `plan --lengths-out`): each cell's budget (`plannedTokens × scale`; "all" = the census's tokens
 * × scale) is filled with lengths resampled, seeded and with replacement, from that cell's
 * census, then packed at the census's geometry, without filler and with the recipe's filler (or
 * the first short source).
 */
export function simulateCensusPacking(census: LengthCensus, file: string, scale: number, bufferRows: number): string[] {
  const used = census.cells.filter((c) => c.lengthTokens.length > 0);
  const cells: SimCell[] = used.map((c) => {
    const planned = c.plannedTokens === 'all' ? c.lengthTokens.reduce((s, n) => s + n, 0) : c.plannedTokens;
    return { source: c.source, bucket: c.bucket, min: c.min, max: c.max, budgetTokens: Math.max(1, Math.round(planned * scale)), window: c.window };
  });
  const docs = drawDocs(cells, 0x5eedn, (c, rng) => {
    const lengths = used[c].lengthTokens;
    return lengths[Math.floor(unit(rng) * lengths.length)];
  });
  const censusDocs = used.reduce((s, c) => s + c.lengthTokens.length, 0);
  const empty = census.cells.length - used.length;
  const filler = census.longRowFiller ?? cells.find((c) => c.window === 'short')?.source;
  const fmt = (n: number) => n.toLocaleString('en-US');
  const title = `packing on real lengths: recipe "${census.recipe}" census ${file} (${fmt(censusDocs)} documents${empty ? `, ${empty} empty cells left out` : ''}), budgets x ${scale}, ${fmt(docs.length)} documents resampled; row ${fmt(census.rowTokens)}, window ${fmt(census.originalWindowTokens)}, buffer ${bufferRows} rows`;
  return report({ title, cells, docs, rowTokens: census.rowTokens, originalWindowTokens: census.originalWindowTokens, filler }, bufferRows);
}
