/**
 * Files read from the hub by range requests are the versions that were listed: If-Match with the
 * listed ETag goes to the hub on every range request (never to the CDN, whose ETags are its own),
 * the hub's linked ETag is checked on its redirects, and a file that changes in the middle of a
 * read fails with a located error.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SourceConfig } from '../../src/config/schema.ts';
import { CorruptInputError, InputError } from '../../src/core/errors.ts';
import { expandPaths, type InputFile } from '../../src/read/files.ts';
import { hubOptionsFromEnv, hubRangeReader, type HubOptions } from '../../src/read/hub/client.ts';
import { readFile } from '../../src/read/index.ts';
import { gitBlobSha1, startHubServer, type HubServer } from '../helpers/hubServer.ts';

const REPO = 'longmix-test/changing';
const texts = (tag: string) => Array.from({ length: 30 }, (_, i) => `${tag} row ${i}`);
const parquet = (tag: string) => Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'text', data: texts(tag), type: 'STRING' }], rowGroupSize: 10 }));
const jsonl = (tag: string) =>
  Buffer.from(
    texts(tag)
      .map((text) => JSON.stringify({ text }))
      .join('\n') + '\n',
  );
const source = {
  name: 's',
  format: 'parquet',
  paths: [],
  window: 'short',
  budgetTokens: 'all',
  lengthTokens: { min: 2, max: 100 },
  maxRepetition: 1,
  oversample: 1.5,
  prefilter: true,
} as SourceConfig;

describe('identity of hub files read by ranges', () => {
  let server: HubServer;
  let cacheDir: string;
  const options = (): HubOptions => hubOptionsFromEnv({ endpoint: server.endpoint, cacheDir, token: undefined, maxRetries: 1, retryBaseMs: 1 });
  const one = async (glob: string): Promise<InputFile> => {
    const files = await expandPaths('s', [`hf://datasets/${REPO}/${glob}`], cacheDir, options());
    expect(files).toHaveLength(1);
    return files[0];
  };

  beforeAll(async () => {
    server = await startHubServer({
      repos: [
        {
          repo: REPO,
          revisions: {
            main: [
              { path: 'data/a.parquet', content: parquet('v1') },
              { path: 'data/a.txt', content: jsonl('v1') },
            ],
          },
        },
      ],
    });
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'longmix-hub-identity-'));
    vi.stubEnv('HF_ENDPOINT', server.endpoint);
    vi.stubEnv('HF_TOKEN', '');
    vi.stubEnv('LONGMIX_CACHE', cacheDir);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    server.replace(REPO, 'data/a.parquet', parquet('v1'));
    server.replace(REPO, 'data/a.txt', jsonl('v1'));
    server.reset();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('sends If-Match with the listed ETag to the hub on every range request, none to the CDN', async () => {
    const lfs = await one('data/a.parquet');
    const reader = hubRangeReader(lfs.hub!, options());
    await reader.slice(0, 4);
    await reader.slice(10, 20);
    const quoted = `"${lfs.hub!.etag}"`;
    expect(server.stats(lfs.hub!).ifMatch).toEqual([
      { origin: 'hub', value: quoted },
      { origin: 'cdn', value: null },
      { origin: 'hub', value: quoted },
      { origin: 'cdn', value: null },
    ]);
    const regular = await one('data/a.txt');
    expect(regular.hub!.etag).toBe(gitBlobSha1(jsonl('v1')));
    expect(Buffer.from(await hubRangeReader(regular.hub!, options()).slice(0, 9)).toString()).toBe('{"text":"');
    expect(server.stats(regular.hub!).ifMatch).toEqual([{ origin: 'hub', value: `"${regular.hub!.etag}"` }]);
  });

  it('a Parquet file replaced between row groups fails the next range, naming file, row group and both ETags', async () => {
    const file = await one('data/a.parquet');
    const listed = file.hub!.etag;
    const read: string[] = [];
    const error = await (async () => {
      for await (const item of readFile(source, file)) {
        if (item.kind === 'doc') read.push(item.doc.text);
        if (read.length === 10) server.replace(REPO, 'data/a.parquet', parquet('v2'));
      }
    })().catch((e: unknown) => e as Error);
    expect(read).toEqual(texts('v1').slice(0, 10));
    expect(error).toBeInstanceOf(InputError);
    expect(error).not.toBeInstanceOf(CorruptInputError);
    const now = server.stats(file.hub!).responses.length; // no retry of a changed file
    const linked = (await one('data/a.parquet')).hub!.etag;
    expect(linked).not.toBe(listed);
    expect((error as Error).message).toBe(
      `${file.relPath}: row group 1 (rows 10..19), column "text": ${file.hub!.url}: changed on the server since it was listed (listed ETag "${listed}", the hub now links ETag "${linked}"); the bytes read so far belong to the listed version: run the build again to list and read the new one`,
    );
    expect(now).toBeGreaterThan(0);
  });

  it('a regular file that changed is refused by the hub (412), or caught by its ETag when If-Match is ignored', async () => {
    const file = await one('data/a.txt');
    server.replace(REPO, 'data/a.txt', jsonl('v2'));
    const reader = hubRangeReader(file.hub!, options());
    const refused = (await reader.slice(0, 4).catch((e: unknown) => e)) as Error;
    expect(refused).toBeInstanceOf(InputError);
    expect(refused.message).toBe(
      `${file.hub!.url}: changed on the server since it was listed (listed ETag "${file.hub!.etag}", If-Match answered 412 Precondition Failed by ${server.endpoint}); the bytes read so far belong to the listed version: run the build again to list and read the new one`,
    );
    expect(server.stats(file.hub!).responses.map((r) => r.status)).toEqual([412]);
    server.inject(REPO, 'data/a.txt', { kind: 'ignoreIfMatch', times: 1 });
    const ignored = (await reader.slice(0, 4).catch((e: unknown) => e)) as Error;
    expect(ignored.message).toBe(
      `${file.hub!.url}: changed on the server since it was listed (listed ETag "${file.hub!.etag}", now "${gitBlobSha1(jsonl('v2'))}"); the bytes read so far belong to the listed version: run the build again to list and read the new one`,
    );
  });
});
