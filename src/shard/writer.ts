/**
 * Writes one Arrow IPC **stream** shard (readable by `pyarrow.ipc.open_stream`, HF datasets and
 * nnScaler). Lifecycle: `open` → `write(batch)`… → `close()` (or `abort()`): the file is written
 * under a temporary name the caller gives and fsynced; the caller renames it into place.
 *
 * Guards: every row is checked before it is encoded (./guard.ts: lengths, token ids against the
 * vocabulary, piece lists), and the encoded bytes are counted as the Arrow writer emits them: a
 * chunk that would take the file past `maxBytes` (default {@link MAX_SHARD_BYTES}, the 2 GiB that
 * `fs.readFile`, readers with 32-bit offsets and many tools stop at) is refused before it reaches
 * the file, and the write fails naming the shard, the rows and the fix.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { AsyncByteQueue, makeData, RecordBatch, RecordBatchStreamWriter, Struct, vectorFromArray, FixedSizeList, Int32, type Schema } from 'apache-arrow';
import { ConfigError } from '../core/errors.ts';
import { assertWritableRow } from './guard.ts';
import { MAX_SHARD_BYTES } from './limits.ts';
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

/** Thrown by {@link LimitedByteQueue} for the chunk that would pass its limit. */
class ByteLimitReached extends Error {}

/**
 * The Arrow writer's output queue, counting bytes: a chunk that would take the total past
 * `maxBytes` is refused (thrown, never queued); after that every chunk is dropped, so the writer
 * can still be aborted.
 */
class LimitedByteQueue extends AsyncByteQueue {
  /** Bytes queued so far. */
  bytes = 0;
  /** Bytes the refused chunk would have made, once one was refused. */
  refusedAt: number | null = null;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override write(value: Uint8Array): void {
    if (this.refusedAt !== null) return;
    if (this.bytes + value.byteLength > this.maxBytes) {
      this.refusedAt = this.bytes + value.byteLength;
      throw new ByteLimitReached();
    }
    this.bytes += value.byteLength;
    super.write(value);
  }
}

/** Limits a {@link ShardWriter} enforces. */
export interface ShardLimits {
  /** Every token id must be below it (the tokenizer's vocabulary size). */
  vocabSize: number;
  /** Largest file, bytes; default {@link MAX_SHARD_BYTES}. Tests inject a small one. */
  maxBytes?: number;
}

/** An open shard being written. */
export class ShardWriter {
  private readonly writer = new RecordBatchStreamWriter();
  private readonly queue: LimitedByteQueue;
  private readonly done: Promise<void>;
  private rows = 0;
  private shortRows = 0;
  private tokens = 0;
  private padTokens = 0;
  private sizeBytes = 0;

  /**
   * Opens `tmpPath` for writing the shard that will be named `file`.
   * @param rank - the data-parallel rank that reads this shard.
   * @param limits - the vocabulary size every token id must be below, and the largest file.
   */
  constructor(
    private readonly tmpPath: string,
    private readonly file: string,
    private readonly schema: Schema,
    private readonly rowTokens: number,
    private readonly rank: number,
    private readonly limits: ShardLimits,
  ) {
    const sink = createWriteStream(this.tmpPath);
    sink.on('finish', () => (this.sizeBytes = sink.bytesWritten));
    this.queue = new LimitedByteQueue(limits.maxBytes ?? MAX_SHARD_BYTES);
    this.writer.reset(this.queue, schema);
    this.done = pipeline(this.writer.toNodeStream(), sink);
  }

  /**
   * Appends `rows` as one record batch.
   * @throws InvariantError naming the shard and row when a row is malformed (./guard.ts);
   *   ConfigError naming the shard and the fix when the batch would take the file past `maxBytes`.
   *   Nothing of a refused row or chunk reaches the file; call `abort()` after either.
   */
  write(rows: readonly RowRecord[]): void {
    if (rows.length === 0) return;
    for (const row of rows) assertWritableRow(row, this.rowTokens, this.limits.vocabSize, this.file);
    try {
      this.writer.write(toBatch(this.schema, rows, this.rowTokens));
    } catch (error) {
      if (!(error instanceof ByteLimitReached)) throw error;
      const maxBytes = this.limits.maxBytes ?? MAX_SHARD_BYTES;
      throw new ConfigError(
        `${this.file}: rows ${rows[0].rowId}..${rows[rows.length - 1].rowId} would take the shard to ${this.queue.refusedAt} bytes, past its limit of ${maxBytes} bytes (readers stop at 2 GiB); nothing past the limit was written. The plan's row-size estimate was too low for these rows: lower output.targetShardBytes so that each shard holds fewer rows`,
        { file: this.file, maxBytes, bytes: this.queue.refusedAt },
        { cause: error },
      );
    }
    for (const r of rows) {
      this.rows++;
      if (r.window === 'short') this.shortRows++;
      this.padTokens += r.numPad;
      this.tokens += this.rowTokens - r.numPad;
    }
  }

  /** Stops writing and removes the temporary file (after a failure). */
  async abort(): Promise<void> {
    // Not writer.abort(): it rejects a promise inside apache-arrow's Node stream adapter that no
    // one handles (an unhandled rejection). Closing ends the stream; the file is removed anyway.
    this.writer.close();
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
