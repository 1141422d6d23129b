import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/manifest/types.ts';
import { explainBuild, paddingByWindow } from '../../src/report/explain.ts';

const SAMPLE: Manifest = JSON.parse(readFileSync(new URL('../../manifests/sample.json', import.meta.url), 'utf8'));
const edited = (edit: (m: Manifest) => void) => {
  const m = structuredClone(SAMPLE);
  edit(m);
  return m;
};
const texts = (m: Manifest) => explainBuild(m).map((n) => `${n.topic}: ${n.text}`);

describe('why a build lost or padded tokens', () => {
  it('the default build: padding under 1% needs no word; the drops name their knob', () => {
    expect(SAMPLE.rows.padTokens / (SAMPLE.rows.total * 4096)).toBeLessThan(0.01);
    expect(texts(SAMPLE)).toEqual([
      'over_budget: 24,456 tokens of papers, web, edu were not selected: the budgets (budgetTokens) were met without them; a larger budget uses them.',
      'too_short: 1,133 tokens (6 documents) of web are shorter than lengthTokens.min: lower it to keep them.',
      'too_long: 1,353 tokens (2 documents) of edu are longer than lengthTokens.max: raise it (a long-window source splits them at the row length) to keep them.',
    ]);
    expect(paddingByWindow(SAMPLE)).toEqual({ long: 50, short: 216 });
  });

  it('padding in long rows without a filler: names longRowFiller and the short sources', () => {
    const m = edited((m) => {
      m.geometry.longRowFiller = null;
      m.sources.code.cells[0].padTokens += 5000;
      m.rows.padTokens += 5000;
    });
    expect(texts(m).slice(0, 2)).toEqual([
      'padding: 5,050 padding tokens are in long rows (5.60% of their tokens): long documents rarely add up to a whole row; set packing.longRowFiller to a short source ("edu") so its documents fill them.',
      'padding: With only 28 rows, one part-filled row of each window class is up to 3.57% of the build; the share shrinks as the budgets grow.',
    ]);
  });

  it('padding in long rows with a filler that ran out, and in short rows', () => {
    const m = edited((m) => {
      m.sources.edu.cells[0].fillerTokens = m.sources.edu.placed.tokens;
      m.sources.web.cells[0].padTokens += 3000;
      m.rows.padTokens += 3000;
    });
    expect(texts(m)[0]).toBe(
      'padding: 3,050 padding tokens are in long rows (3.38% of their tokens) although "edu" fills them: "edu" ran out (all 29,170 of its placed tokens went into long rows); raise its budgetTokens.',
    );
    const short = edited((m) => {
      m.sources.edu.cells[0].padTokens += 3000;
      m.rows.padTokens += 3000;
    });
    expect(texts(short)[0]).toBe(
      `padding: 3,216 padding tokens are in short rows: the short documents (21,360 tokens in 6 short rows) do not fill whole rows; raise the short sources' budgetTokens by about 3,216 tokens to fill the part-filled row, or lower them by about 880 to leave it out, or raise "edu"'s budget.`,
    );
    // Budgets of "all" cannot be changed by a number of tokens; without long rows there is nothing to fill.
    const all = edited((m) => {
      m.sources.edu.cells[0].padTokens += 3000;
      m.rows.padTokens += 3000;
      for (const a of Object.values(m.sources)) for (const c of a.cells) if (a.window === 'short') c.plannedTokens = 'all';
      m.rows.long = 0;
      m.geometry.longRowFiller = null;
    });
    expect(texts(all)[0]).toBe(
      `padding: 3,216 padding tokens are in short rows: the short documents (21,360 tokens in 6 short rows) do not fill whole rows; their budgets are "all", so every short document read is placed: read more short documents (about 3,216 tokens fill the part-filled row), or give a short source a numeric budgetTokens about 880 tokens below what it placed to leave that row out.`,
    );
  });

  it('rows dropped from the last batch, raised plans, truncated tails and repeats', () => {
    const m = edited((m) => {
      m.rows.dropped = { rows: 3, tokens: 11000, padTokens: 1288, policy: 'drop' };
      m.sources.web.cells[0].raisedTokens = 700;
      m.totals.tokensDropped.truncated = 123;
      m.totals.tokensRepeated = 456;
    });
    expect(texts(m).filter((t) => !t.startsWith('over_budget') && !t.startsWith('too_'))).toEqual([
      'last_batch: 3 packed rows (11,000 tokens) did not fill the last global batch of 4 rows and were dropped: set output.lastBatchPolicy: fill (raises the numeric budgets to whole batches) or change the budgets.',
      'raised: lastBatchPolicy fill raised the plans of web 513-16384 by 700 tokens in all, so the rows fill whole global batches of 4.',
      'truncated: 123 tokens are tails cut by packing.longDocPolicy/shortDocPolicy: truncate; split keeps them as further pieces.',
      'repeated: 456 placed tokens are repeats: a budget above what its cell holds, allowed by maxRepetition.',
    ]);
    const fill = edited((m) => (m.rows.dropped = { rows: 1, tokens: 4000, padTokens: 96, policy: 'fill' }));
    expect(texts(fill)[0]).toBe(
      'last_batch: 1 packed row (4,000 tokens) did not fill the last global batch of 4 rows and was dropped: lastBatchPolicy fill found no raise of the numeric budgets within what their cells hold (budgets "all" are never raised); give a source a numeric budget below what it holds, or lower output.globalBatchRows.',
    );
  });
});
