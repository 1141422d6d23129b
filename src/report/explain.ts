/**
 * Why a build lost what it lost: one line per cause, naming the recipe knob that changes it.
 * Made from the manifest alone; shared by the printed summary (src/cli/summary.ts) and the report.
 *
 * Padding is split by window class through the cells' `padTokens` (the padding of rows whose
 * longest piece is from the cell, docs/format.md §6.2): rows led by a long source's piece are long
 * rows, so the cells of long sources carry the long rows' padding.
 */
import type { Manifest } from '../manifest/types.ts';
import { LENGTH_DROP_REASONS, type LengthDropReason, cellSums } from '../manifest/ledger.ts';
import { orderedSources } from './flows.ts';

/** An integer with thousands separators (en-US). */
export const fmt = (n: number) => n.toLocaleString('en-US');

/** `part / whole` as a percentage with two decimals ("0.00%" when whole is 0). */
export const pct = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(2)}%` : '0.00%');

/** `n` and a noun in the singular or plural (`1 short row`, `2 short rows`). */
export const plural = (n: number, noun: string) => `${fmt(n)} ${noun}${n === 1 ? '' : 's'}`;

/** Padding above this share of the row tokens gets an explanation. */
export const LARGE_PADDING_SHARE = 0.01;

/** One cause and its remedy. */
export interface Note {
  /** What it explains: `padding`, `last_batch`, `over_budget`, a length-drop reason, `truncated`, `repeated`, `raised`. */
  topic: 'padding' | 'last_batch' | 'over_budget' | LengthDropReason | 'truncated' | 'repeated' | 'raised';
  text: string;
}

const list = (names: string[]) => (names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', '));

/** Padding of long rows and of short rows, tokens (see the file header). */
export function paddingByWindow(manifest: Manifest): { long: number; short: number } {
  let long = 0;
  let short = 0;
  for (const a of Object.values(manifest.sources)) for (const c of a.cells) a.window === 'long' ? (long += c.padTokens) : (short += c.padTokens);
  return { long, short };
}

function paddingNotes(manifest: Manifest): Note[] {
  const { rowTokens } = manifest.geometry;
  const rowTokensAll = manifest.rows.total * rowTokens;
  const pad = manifest.rows.padTokens;
  if (pad <= LARGE_PADDING_SHARE * rowTokensAll) return [];
  const notes: Note[] = [];
  const byWindow = paddingByWindow(manifest);
  const filler = manifest.geometry.longRowFiller;
  const shortSources = orderedSources(manifest).filter(([, a]) => a.window === 'short');
  // A class gets a line when it holds at least a quarter of the padding.
  if (byWindow.long > 0 && byWindow.long >= pad / 4) {
    const share = pct(byWindow.long, manifest.rows.long * rowTokens);
    if (filler === null) {
      const offer = shortSources.length
        ? `set packing.longRowFiller to a short source (${list(shortSources.map(([n]) => `"${n}"`))}) so its documents fill them`
        : 'add a short source and set packing.longRowFiller to it';
      notes.push({
        topic: 'padding',
        text: `${fmt(byWindow.long)} padding tokens are in long rows (${share} of their tokens): long documents rarely add up to a whole row; ${offer}.`,
      });
    } else {
      const fillerAccount = manifest.sources[filler];
      const used = fillerAccount?.cells.reduce((s, c) => s + c.fillerTokens, 0) ?? 0;
      const placed = fillerAccount?.placed.tokens ?? 0;
      const cause =
        used >= placed
          ? `"${filler}" ran out (all ${fmt(placed)} of its placed tokens went into long rows)`
          : `the gaps left are shorter than "${filler}"'s remaining documents`;
      notes.push({
        topic: 'padding',
        text: `${fmt(byWindow.long)} padding tokens are in long rows (${share} of their tokens) although "${filler}" fills them: ${cause}; raise its budgetTokens.`,
      });
    }
  }
  if (byWindow.short > 0 && byWindow.short >= pad / 4) {
    const shortTokens = manifest.rows.short * rowTokens - byWindow.short;
    const numeric = shortSources.some(([, a]) => a.cells.some((c) => c.plannedTokens !== 'all'));
    // The part-filled row: `gap` tokens more would fill it, `held` tokens fewer would leave it out.
    const gap = byWindow.short % rowTokens;
    const held = rowTokens - gap;
    const budgets = numeric
      ? `raise the short sources' budgetTokens by about ${fmt(gap)} tokens to fill the part-filled row, or lower them by about ${fmt(held)} to leave it out`
      : `their budgets are "all", so every short document read is placed: read more short documents (about ${fmt(gap)} tokens fill the part-filled row), or give a short source a numeric budgetTokens about ${fmt(held)} tokens below what it placed to leave that row out`;
    const fill =
      manifest.rows.long === 0
        ? ''
        : filler === null
          ? ', or set packing.longRowFiller to one of them (long rows then take some of their documents)'
          : `, or raise "${filler}"'s budget`;
    notes.push({
      topic: 'padding',
      text: `${fmt(byWindow.short)} padding tokens are in short rows: the short documents (${fmt(shortTokens)} tokens in ${plural(manifest.rows.short, 'short row')}) do not fill whole rows; ${budgets}${fill}.`,
    });
  }
  if (manifest.rows.total < 100)
    notes.push({
      topic: 'padding',
      text: `With only ${plural(manifest.rows.total, 'row')}, one part-filled row of each window class is up to ${pct(rowTokens, rowTokensAll)} of the build; the share shrinks as the budgets grow.`,
    });
  return notes;
}

/** The causes of this build's padding and drops, each with the recipe knob that changes it (empty when nothing needs explaining). */
export function explainBuild(manifest: Manifest): Note[] {
  const notes = paddingNotes(manifest);
  const sources = orderedSources(manifest);
  const { dropped } = manifest.rows;
  const G = manifest.schedule.globalBatchRows;
  if (dropped.rows > 0) {
    const why =
      dropped.policy === 'drop'
        ? 'set output.lastBatchPolicy: fill (raises the numeric budgets to whole batches) or change the budgets'
        : 'lastBatchPolicy fill found no raise of the numeric budgets within what their cells hold (budgets "all" are never raised); give a source a numeric budget below what it holds, or lower output.globalBatchRows';
    notes.push({
      topic: 'last_batch',
      text: `${fmt(dropped.rows)} packed row${dropped.rows === 1 ? '' : 's'} (${fmt(dropped.tokens)} tokens) did not fill the last global batch of ${fmt(G)} rows and ${dropped.rows === 1 ? 'was' : 'were'} dropped: ${why}.`,
    });
  }
  const raised = sources.flatMap(([name, a]) =>
    a.cells.filter((c) => c.raisedTokens > 0).map((c) => ({ name: `${name} ${c.bucket}`, tokens: c.raisedTokens })),
  );
  if (raised.length)
    notes.push({
      topic: 'raised',
      text: `lastBatchPolicy fill raised the plans of ${list(raised.map((r) => r.name))} by ${fmt(raised.reduce((s, r) => s + r.tokens, 0))} tokens in all, so the rows fill whole global batches of ${fmt(G)}.`,
    });
  const over = sources.filter(([, a]) => cellSums(a).overBudget > 0);
  if (over.length)
    notes.push({
      topic: 'over_budget',
      text: `${fmt(manifest.totals.tokensDropped.over_budget)} tokens of ${list(over.map(([n]) => n))} were not selected: the budgets (budgetTokens) were met without them; a larger budget uses them.`,
    });
  const knob: Record<LengthDropReason, string> = {
    too_short: 'are shorter than lengthTokens.min: lower it to keep them',
    too_long: 'are longer than lengthTokens.max: raise it (a long-window source splits them at the row length) to keep them',
    outside_buckets: 'are inside lengthTokens but in no bucket: widen the bucket edges to keep them',
  };
  for (const reason of LENGTH_DROP_REASONS) {
    const filtered = sources.filter(([, a]) => a.dropped[reason].tokens > 0);
    if (!filtered.length) continue;
    const docs = filtered.reduce((s, [, a]) => s + a.dropped[reason].documents, 0);
    notes.push({
      topic: reason,
      text: `${fmt(manifest.totals.tokensDropped[reason])} tokens (${fmt(docs)} document${docs === 1 ? '' : 's'}) of ${list(filtered.map(([n]) => n))} ${knob[reason]}.`,
    });
  }
  if (manifest.totals.tokensDropped.truncated > 0)
    notes.push({
      topic: 'truncated',
      text: `${fmt(manifest.totals.tokensDropped.truncated)} tokens are tails cut by packing.longDocPolicy/shortDocPolicy: truncate; split keeps them as further pieces.`,
    });
  if (manifest.totals.tokensRepeated > 0)
    notes.push({
      topic: 'repeated',
      text: `${fmt(manifest.totals.tokensRepeated)} placed tokens are repeats: a budget above what its cell holds, allowed by maxRepetition.`,
    });
  return notes;
}
