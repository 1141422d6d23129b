/**
 * Writes one Arrow IPC **stream** shard (readable by `pyarrow.ipc.open_stream`, HF datasets and
 * nnScaler). Lifecycle: `open` → `write(batch)`… → `close()` (or `abort()`): the file is written
 * under a temporary name the caller gives and fsynced; the caller renames it into place.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { makeData, RecordBatch, RecordBatchStreamWriter, Struct, vectorFromArray, FixedSizeList, Int32, type Schema } from 'apache-arrow';
import type { RowRecord } from './schema.ts';

/** What the manifest records of a finished shard. */
export interface ShardInfo {
  /** File name within the output directory. */
  file: string;
  rows: number;
  /** The data-parallel rank that reads this shard. */
  rank: number;
  shortRows: number;
  longRows: number;
  /** Document tokens (excluding padding). */
  tokens: number;
  padTokens: number;
  sizeBytes: number;
  /** SHA-256 (hex) of the file bytes. */
  sha256: string;
}

/** A FixedSizeList<Int32> column over `values` (length `rows × listSize`), zero-copy. */
function fixedInt32Column(type: FixedSizeList<Int32>, values: Int32Array, rows: number) {
  const childType = type.children[0].type;
  return makeData({ type, length: rows, nullCount: 0, child: makeData({ type: childType, length: values.length, nullCount: 0, data: values }) });
}

/** Builds one record batch from `rows` (all of the schema's row length). */
function toBatch(schema: Schema, rows: readonly RowRecord[], rowTokens: number): RecordBatch {
  const n = rows.length;
  const inputIds = new Int32Array(n * rowTokens);
  const positionIds = new Int32Array(n * rowTokens);
  rows.forEach((row, i) => {
    inputIds.set(row.inputIds, i * rowTokens);
    positionIds.set(row.positionIds, i * rowTokens);
  });
  const fields = schema.fields;
  const column = (name: string) => fields.find((f) => f.name === name)!.type;
  const list = (name: string, values: (r: RowRecord) => unknown[]) => vectorFromArray(rows.map(values), column(name)).data[0];
  const children = [
    fixedInt32Column(column('input_ids') as FixedSizeList<Int32>, inputIds, n),
    fixedInt32Column(column('position_ids') as FixedSizeList<Int32>, positionIds, n),
    list('doc_lens', (r) => r.docLens),
    vectorFromArray(
      rows.map((r) => r.window),
      column('window'),
    ).data[0],
    makeData({ type: column('num_pad'), length: n, nullCount: 0, data: Int32Array.from(rows, (r) => r.numPad) }),
    makeData({ type: column('row_id'), length: n, nullCount: 0, data: Int32Array.from(rows, (r) => r.rowId) }),
    list('piece_lens', (r) => r.pieceLens),
    list('piece_source', (r) => r.pieceSource),
    list('piece_doc_id', (r) => r.pieceDocId),
    list('piece_start', (r) => r.pieceStart),
    list('piece_repeat', (r) => r.pieceRepeat),
    list('piece_part', (r) => r.piecePart),
    list('piece_parts', (r) => r.pieceParts),
  ];
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  return new RecordBatch(schema, struct);
}

/** Flushes a file's data to disk (fsync), so a rename never exposes a half-written file after a power loss. */
export async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** An open shard being written. */
export class ShardWriter {
  private readonly writer = new RecordBatchStreamWriter();
  private readonly done: Promise<void>;
  private rows = 0;
  private shortRows = 0;
  private tokens = 0;
  private padTokens = 0;
  private sizeBytes = 0;

  /**
   * Opens `tmpPath` for writing the shard that will be named `file`.
   * @param rank - the data-parallel rank that reads this shard.
   */
  constructor(
    private readonly tmpPath: string,
    private readonly file: string,
    private readonly schema: Schema,
    private readonly rowTokens: number,
    private readonly rank: number,
  ) {
    const sink = createWriteStream(this.tmpPath);
    sink.on('finish', () => (this.sizeBytes = sink.bytesWritten));
    this.done = pipeline(this.writer.toNodeStream(), sink);
    this.writer.reset(undefined, schema);
  }

  /** Appends `rows` as one record batch. */
  write(rows: readonly RowRecord[]): void {
    if (rows.length === 0) return;
    this.writer.write(toBatch(this.schema, rows, this.rowTokens));
    for (const r of rows) {
      this.rows++;
      if (r.window === 'short') this.shortRows++;
      this.padTokens += r.numPad;
      this.tokens += this.rowTokens - r.numPad;
    }
  }

  /** Stops writing and removes the temporary file (after a failure). */
  async abort(): Promise<void> {
    this.writer.abort();
    await this.done.catch(() => undefined);
    await rm(this.tmpPath, { force: true });
  }

  /**
   * Finishes the stream and fsyncs the file, still under its temporary name; returns its info.
   */
  async close(): Promise<ShardInfo> {
    this.writer.finish();
    await this.done;
    const sha256 = await sha256File(this.tmpPath);
    await syncFile(this.tmpPath);
    return {
      file: this.file,
      rows: this.rows,
      rank: this.rank,
      shortRows: this.shortRows,
      longRows: this.rows - this.shortRows,
      tokens: this.tokens,
      padTokens: this.padTokens,
      sizeBytes: this.sizeBytes,
      sha256,
    };
  }
}
