/**
 * Test helper: every document of the real samples in ../shared/samples (read, never copied),
 * through the project's own readers.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceConfig } from '../../src/config/schema.ts';
import type { Doc } from '../../src/core/doc.ts';
import { expandPaths } from '../../src/read/files.ts';
import { readFile } from '../../src/read/index.ts';

/** Absolute path of ../shared/samples from the repository root. */
export const SHARED_SAMPLES = fileURLToPath(new URL('../../../shared/samples/', import.meta.url));

/**
 * True when the tests over ../shared/samples must be skipped: the folder is absent and this is
 * not CI. Under CI (where shared/ always lies beside the clone) a missing folder fails the tests.
 */
export const skipWithoutSharedSamples = !existsSync(SHARED_SAMPLES) && !process.env.CI;

const SOURCES: Pick<SourceConfig, 'name' | 'format' | 'paths' | 'textField'>[] = [
  { name: 'arxiv', format: 'jsonl', paths: ['redpajama-v1/arxiv.jsonl'], textField: 'text' },
  { name: 'cc', format: 'jsonl', paths: ['redpajama-v1/redpajama-cc-*'], textField: 'text' },
  { name: 'ccnet', format: 'jsonl', paths: ['redpajama-v2-like-ccnet/*.jsonl.gz'], textField: 'text' },
  { name: 'fineweb', format: 'parquet', paths: ['fineweb-edu-like/*.parquet'], textField: 'text' },
  { name: 'books', format: 'text', paths: ['pg19-like-gutenberg/*.txt'], textField: 'text' },
];

/** Reads every document of the shared samples (102 documents); fails on any bad record. */
export async function sharedSampleDocs(): Promise<Doc[]> {
  const docs: Doc[] = [];
  for (const s of SOURCES) {
    const config = { ...s, window: 'short', budgetTokens: 'all', lengthTokens: { min: 2, max: 2 } } as SourceConfig;
    for (const file of await expandPaths(s.name, s.paths, SHARED_SAMPLES)) {
      for await (const item of readFile(config, file)) {
        if (item.kind !== 'doc') throw new Error(`not a document in shared samples: ${JSON.stringify(item)}`);
        docs.push(item.doc);
      }
    }
  }
  return docs;
}

/** Path of the repository's pipelines/ folder. */
export const PIPELINES = path.resolve(fileURLToPath(new URL('../../pipelines/', import.meta.url)));
