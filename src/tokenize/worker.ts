/**
 * Tokenizer worker thread: builds one tokenizer from `workerData` (a {@link TokenizerSpec}) and
 * answers `{ seq, text }` with `{ seq, ids }` (BOS + ids + EOS, Int32Array, buffer transferred)
 * or `{ seq, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createTokenizerFromSpec } from './registry.ts';
import type { TokenizerSpec } from './tokenizer.ts';

const tokenizer = createTokenizerFromSpec(workerData as TokenizerSpec);
parentPort!.on('message', async (message: { seq: number; text: string }) => {
  try {
    const ids = await tokenizer.encodeDocument(message.text);
    parentPort!.postMessage({ seq: message.seq, ids }, [ids.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ seq: message.seq, error: String((error as Error).stack ?? error) });
  }
});
