/**
 * A pool of tokenizer worker threads that keeps input order: documents go out to the least
 * busy worker, at most `2 × workers` in flight, and come back in the order they went in, so the
 * output is the same whatever the worker count (../shared/LIBRARIES.md §1.3: 2 workers ≈ 1.9×).
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Doc, TokenizedDoc } from '../core/doc.ts';
import { PipelineError } from '../core/errors.ts';
import type { TokenizerSpec } from './tokenizer.ts';

interface Pending {
  resolve: (ids: Int32Array) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** Default worker count: the machine's available parallelism. */
export function defaultWorkerCount(): number {
  return Math.max(1, os.availableParallelism());
}

/** Worker threads that each hold a tokenizer built from the same spec. */
export class TokenizerPool {
  private readonly workers: PoolWorker[];
  private seq = 0;

  /**
   * @param spec - tokenizer spec sent to every worker.
   * @param workerCount - number of threads, >= 1.
   * @throws RangeError when `workerCount` is not a positive integer.
   */
  constructor(spec: TokenizerSpec, workerCount: number) {
    if (!Number.isInteger(workerCount) || workerCount < 1) throw new RangeError(`Expected workers to be a positive integer, got ${workerCount}`);
    const url = new URL('./worker-entry.mjs', import.meta.url);
    this.workers = Array.from({ length: workerCount }, () => {
      const worker = new Worker(url, { workerData: spec });
      const entry: PoolWorker = { worker, pending: new Map() };
      worker.on('message', (message: { seq: number; ids?: Int32Array; error?: string }) => {
        const pending = entry.pending.get(message.seq);
        if (!pending) return;
        entry.pending.delete(message.seq);
        if (message.ids) pending.resolve(message.ids);
        else pending.reject(new PipelineError(`tokenizer worker failed: ${message.error}`));
      });
      worker.on('error', (error) => failAll(entry, error));
      worker.on('exit', (code) => failAll(entry, new PipelineError(`tokenizer worker exited with code ${code}`)));
      return entry;
    });
  }

  /** Tokenizes one text on the least busy worker; resolves to BOS + ids + EOS. */
  encodeDocument(text: string): Promise<Int32Array> {
    let best = this.workers[0];
    for (const w of this.workers) if (w.pending.size < best.pending.size) best = w;
    const seq = this.seq++;
    return new Promise<Int32Array>((resolve, reject) => {
      best.pending.set(seq, { resolve, reject });
      best.worker.postMessage({ seq, text });
    });
  }

  /**
   * Tokenizes `docs` in order with bounded look-ahead (`2 × workers` documents in flight).
   * @throws PipelineError (with the document id) when a worker fails.
   */
  async *tokenize(docs: AsyncIterable<Pick<Doc, 'source' | 'id' | 'text'>>): AsyncGenerator<TokenizedDoc> {
    const inFlight: { doc: Pick<Doc, 'source' | 'id'>; ids: Promise<Int32Array> }[] = [];
    const limit = 2 * this.workers.length;
    const settle = async ({ doc, ids }: { doc: Pick<Doc, 'source' | 'id'>; ids: Promise<Int32Array> }): Promise<TokenizedDoc> => {
      try {
        return { source: doc.source, id: doc.id, ids: await ids };
      } catch (error) {
        throw new PipelineError(
          `Cannot tokenize ${doc.id} (source "${doc.source}"): ${(error as Error).message}`,
          { source: doc.source, id: doc.id },
          { cause: error },
        );
      }
    };
    for await (const doc of docs) {
      const ids = this.encodeDocument(doc.text);
      ids.catch(() => undefined); // handled when settled in order; avoids an unhandled rejection meanwhile
      inFlight.push({ doc, ids });
      if (inFlight.length >= limit) yield await settle(inFlight.shift()!);
    }
    while (inFlight.length) yield await settle(inFlight.shift()!);
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

function failAll(entry: PoolWorker, error: Error): void {
  for (const pending of entry.pending.values()) pending.reject(error);
  entry.pending.clear();
}
