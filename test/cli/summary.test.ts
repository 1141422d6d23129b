import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatReportLine, formatSummary } from '../../src/cli/summary.ts';
import type { Manifest } from '../../src/manifest/types.ts';

const SAMPLE: Manifest = JSON.parse(readFileSync(new URL('../../manifests/sample.json', import.meta.url), 'utf8'));

describe('the build summary', () => {
  it('of the default build: every drop has its reason and knob, nothing skipped is said so', () => {
    const lines = formatSummary(SAMPLE, 'out/sample', 2).split('\n');
    expect(lines[0]).toBe('longmix build-mix: sample -> out/sample');
    expect(lines.find((l) => l.startsWith('cell (source bucket)'))).toMatch(/ pad:rows led$/);
    expect(lines.slice(lines.findIndex((l) => l.startsWith('rows ')))).toEqual([
      'rows      28 (short 6, long 22), 213 pieces; 0 rows dropped that did not fill the last global batch',
      'schedule  7 steps of 4 rows over 2 ranks',
      'tokens    read 141,364, placed 114,422 (0 repeated), dropped 1,133 too short + 1,353 too long + 0 outside buckets + 24,456 over budget + 0 truncated + 0 last batch',
      'padding   266 tokens (0.23% of row tokens)',
      'skipped   web: 1 document (290 bytes) too short by their length in bytes, never tokenized',
      'why       24,456 tokens of papers, web, edu were not selected: the budgets (budgetTokens) were met without them; a larger budget uses them.',
      '          1,133 tokens (6 documents) of web are shorter than lengthTokens.min: lower it to keep them.',
      '          1,353 tokens (2 documents) of edu are longer than lengthTokens.max: raise it (a long-window source splits them at the row length) to keep them.',
      'shards    4 (957,000 bytes)',
      'time      2.0 s, 70,682 tokens/s read+tokenized',
    ]);
    expect(formatReportLine({ file: 'out/sample/report.html', sizeBytes: 235411 })).toBe(
      'report    out/sample/report.html (235,411 bytes): open it in a browser',
    );
  });

  it('names skipped input per source', () => {
    const m = structuredClone(SAMPLE);
    m.sources.web.badRecords = { malformed_json: 2 };
    m.sources.web.skipped.blank_line = 3;
    m.sources.edu.qualityFiltered = { documents: 4, chars: 900 };
    const skipped = formatSummary(m, 'out/sample', 2)
      .split('\n')
      .filter((l, i, all) => l.startsWith('skipped') || (i > 0 && all[i - 1].startsWith('skipped')));
    expect(skipped).toEqual([
      'skipped   web: bad record malformed_json 2, blank_line 3, 1 document (290 bytes) too short by their length in bytes, never tokenized',
      '          edu: 4 quality-filtered documents',
    ]);
  });
});
