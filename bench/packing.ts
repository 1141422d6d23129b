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
  return [...long('rpv1', 4.5), ...long('rpv2', 2.5), ...long('starcoder', 2), { source: 'fineweb-edu', bucket: '64-8k', min: 64, max: 8192, budgetTokens: Math.round(1e9 * scale), window: 'short' }];
}

/** Draws documents per cell up to its budget (the last one may go over, as selection does). */
export function simulateDocs(cells: SimCell[], seed: bigint): PackDoc[] {
  const rng = new SplitMix64(seed);
  const docs: PackDoc[] = [];
  cells.forEach((cell, c) => {
    let total = 0;
    const logMin = Math.log(cell.min);
    const logMax = Math.log(cell.max + 1);
    while (total < cell.budgetTokens) {
      const u = Number(rng.next() >> 11n) / 2 ** 53;
      const lengthTokens = Math.min(cell.max, Math.floor(Math.exp(logMin + u * (logMax - logMin))));
      docs.push({ doc: docs.length, source: cell.source, id: `${cell.bucket}/${docs.length}`, repeat: 0, cell: c, lengthTokens, window: cell.window });
      total += lengthTokens;
    }
  });
  return docs;
}

/** Padding per cell and in all, with and without filling long rows from Fineweb-Edu. */
export function simulatePacking(scale: number, bufferRows: number): string[] {
  const cells = paperCells(scale);
  const docs = simulateDocs(cells, 0x5eedn);
  const lines = [`packing simulation: LongRoPE2 §4.1 mix x ${scale} (${docs.length.toLocaleString('en-US')} synthetic documents, log-uniform lengths per bucket), row 131,072, window 8,192, buffer ${bufferRows} rows`];
  for (const filler of [undefined, 'fineweb-edu']) {
    const plan = planPacking(docs, { rowTokens: 131_072, originalWindowTokens: 8192, seed: 9176, bufferTokens: bufferRows * 131_072, longDocPolicy: 'split', shortDocPolicy: 'split', fillerSource: filler, cellCount: cells.length });
    const pad = plan.rows.reduce((s, r) => s + r.numPad, 0);
    const rowTokens = plan.rows.length * 131_072;
    const perCell = cells.map((c, i) => `${c.source} ${c.bucket} ${((100 * plan.cells[i].padTokens) / rowTokens).toFixed(3)}%`).join(', ');
    lines.push(`  filler ${filler ?? 'none'}: ${plan.rows.length.toLocaleString('en-US')} rows (${plan.rows.filter((r) => r.window === 'long').length} long), padding ${((100 * pad) / rowTokens).toFixed(3)}% of row tokens`);
    lines.push(`    padding by cell of each row's longest piece (share of all row tokens): ${perCell}`);
  }
  return lines;
}
