/**
 * A planned shard's rows, made from the columnar plan one shard at a time: as objects
 * ({@link shardObject}), as the text of its rows file (`JSON.stringify` of that object,
 * {@link shardJson}), and as its canonical JSON (src/core/stableJson.ts, for the build id,
 * {@link shardCanonicalChunks}). The texts are written directly, without an object per piece, so
 * that planning millions of pieces leaves little garbage; they equal the objects' serializations
 * byte for byte (test/plan/shardText.test.ts).
 */
import type { PackColumns } from '../pack/rows.ts';
import type { CensusDocs } from './docs.ts';
import type { PiecePlan, RowPlan, ShardPlanned } from './reduce.ts';
import type { Schedule, ShardPlan } from './schedule.ts';

/** What a shard's rows are made of. */
export interface ShardSource {
  docs: CensusDocs;
  plan: Pick<PackColumns, 'rows' | 'pieces'>;
  schedule: Schedule;
  shardPlan: ShardPlan;
  index: number;
  /** The shard's file name ('' while the build id is computed). */
  file: string;
}

/** Calls `f` for each row of the shard: its global position, plan row and window. */
function forRows(s: ShardSource, f: (rowId: number, row: number, window: 'short' | 'long') => void): void {
  for (const p of s.shardPlan.positions) {
    const r = s.schedule.order[p];
    f(p, r, s.plan.rows.long[r] ? 'long' : 'short');
  }
}

/** Piece `k` of the plan's row list as the rows file holds it. */
function pieceOf(s: ShardSource, k: number): PiecePlan {
  const { pieces, rows } = s.plan;
  const ref = rows.refs[k];
  const doc = pieces.doc[ref];
  return {
    unit: s.docs.unit(doc),
    offsetTokens: s.docs.offsetTokens(doc) + pieces.startToken[ref],
    lengthTokens: pieces.lengthTokens[ref],
    source: s.docs.source(doc),
    docId: s.docs.id(doc),
    startToken: pieces.startToken[ref],
    repeat: pieces.repeat[ref],
    part: pieces.part[ref],
    parts: pieces.parts[ref],
  };
}

/** The shard with its rows as objects (keys in the rows file's order). */
export function shardObject(s: ShardSource): ShardPlanned {
  const { rows } = s.plan;
  const out: RowPlan[] = [];
  forRows(s, (rowId, r, window) => {
    const pieces: PiecePlan[] = [];
    for (let k = rows.first[r]; k < rows.first[r + 1]; k++) pieces.push(pieceOf(s, k));
    out.push({ rowId, window, numPad: rows.numPad[r], pieces });
  });
  return { index: s.index, file: s.file, rank: s.shardPlan.rank, rows: out };
}

/** `JSON.stringify(shardObject(s))`, written directly: the shard's rows file. */
export function shardJson(s: ShardSource): string {
  const { rows } = s.plan;
  const rowTexts: string[] = [];
  forRows(s, (rowId, r, window) => {
    const pieceTexts: string[] = [];
    for (let k = rows.first[r]; k < rows.first[r + 1]; k++) {
      const p = pieceOf(s, k);
      pieceTexts.push(
        `{"unit":${p.unit},"offsetTokens":${p.offsetTokens},"lengthTokens":${p.lengthTokens},"source":${JSON.stringify(p.source)},"docId":${JSON.stringify(p.docId)},"startToken":${p.startToken},"repeat":${p.repeat},"part":${p.part},"parts":${p.parts}}`,
      );
    }
    rowTexts.push(`{"rowId":${rowId},"window":"${window}","numPad":${rows.numPad[r]},"pieces":[${pieceTexts.join(',')}]}`);
  });
  return `{"index":${s.index},"file":${JSON.stringify(s.file)},"rank":${s.shardPlan.rank},"rows":[${rowTexts.join(',')}]}`;
}

/** Line break and indentation at depth `d` of canonical JSON (2 spaces per level). */
const nl = (d: number) => '\n' + '  '.repeat(d);

/** A canonical JSON array at depth `d` of the given element texts (already indented for depth d + 1). */
const array = (items: readonly string[], d: number) => (items.length === 0 ? '[]' : `[${nl(d + 1)}${items.join(`,${nl(d + 1)}`)}${nl(d)}]`);

/**
 * The canonical JSON of `shardObject(s)` (src/core/stableJson.ts `stableStringify`, without its
 * trailing newline), written directly in pieces (the shard's head, then one piece per row, then
 * its end) whose concatenation is that text: keys sorted, two-space indentation from depth 0.
 * Each piece is small and dies young, so hashing millions of rows leaves no garbage to promote.
 */
export function* shardCanonicalChunks(s: ShardSource): Generator<string> {
  const { rows } = s.plan;
  yield `{${nl(1)}"file": ${JSON.stringify(s.file)},${nl(1)}"index": ${s.index},${nl(1)}"rank": ${s.shardPlan.rank},${nl(1)}"rows": `;
  let first = true;
  for (const p of s.shardPlan.positions) {
    const r = s.schedule.order[p];
    const pieceTexts: string[] = [];
    for (let k = rows.first[r]; k < rows.first[r + 1]; k++) {
      const q = pieceOf(s, k);
      pieceTexts.push(
        `{${nl(5)}"docId": ${JSON.stringify(q.docId)},${nl(5)}"lengthTokens": ${q.lengthTokens},${nl(5)}"offsetTokens": ${q.offsetTokens},${nl(5)}"part": ${q.part},${nl(5)}"parts": ${q.parts},${nl(5)}"repeat": ${q.repeat},${nl(5)}"source": ${JSON.stringify(q.source)},${nl(5)}"startToken": ${q.startToken},${nl(5)}"unit": ${q.unit}${nl(4)}}`,
      );
    }
    const window = rows.long[r] ? 'long' : 'short';
    yield `${first ? '[' : ','}${nl(2)}{${nl(3)}"numPad": ${rows.numPad[r]},${nl(3)}"pieces": ${array(pieceTexts, 3)},${nl(3)}"rowId": ${p},${nl(3)}"window": "${window}"${nl(2)}}`;
    first = false;
  }
  yield `${first ? '[]' : nl(1) + ']'}\n}`;
}
