/**
 * The hub when it cannot be reached: a warm cache rebuilds offline from cached listings (said once
 * on stderr); failures that cannot be transient are not retried for seconds; URLs with
 * credentials are refused before any request, without showing the password.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SourceConfig } from '../../src/config/schema.ts';
import { ConfigError, InputError } from '../../src/core/errors.ts';
import { expandPaths } from '../../src/read/files.ts';
import { downloadHubFile, hubOptionsFromEnv, listHubFiles, type HubOptions } from '../../src/read/hub/client.ts';
import { parquetRecords } from '../../src/read/parquet.ts';
import { resetOfflineNotice } from '../../src/read/hub/list.ts';
import { listingCachePath } from '../../src/read/hub/listingCache.ts';
import { parseHubUrl } from '../../src/read/hub/location.ts';
import { classifyFetchError, redactCredentials } from '../../src/read/hub/network.ts';
import { localSiblings, readFile as readInput } from '../../src/read/index.ts';
import { parseUrlList } from '../../src/read/urls.ts';
import { startHubServer } from '../helpers/hubServer.ts';
import { skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';

/** A loopback port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), 'longmix-offline-'));
  resetOfflineNotice();
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await rm(cacheDir, { recursive: true, force: true });
});

describe.skipIf(skipWithoutSharedSamples)('a warm cache without the hub', () => {
  it('lists from the cached listing, says so once on stderr, and reads the cached files', async () => {
    const server = await startHubServer();
    const endpoint = server.endpoint;
    const options: HubOptions = hubOptionsFromEnv({ endpoint, cacheDir, token: undefined, maxRetries: 5, retryBaseMs: 1000 });
    const url = 'hf://datasets/longmix-test/samples/data/*.jsonl';
    const online = await expandPaths('s', [url], cacheDir, options);
    expect(online.map((f) => f.relPath)).toEqual([
      'hf://datasets/longmix-test/samples@main/data/arxiv.jsonl',
      'hf://datasets/longmix-test/samples@main/data/cc.jsonl',
    ]);
    const cachePath = listingCachePath(cacheDir, endpoint, parseHubUrl(url));
    const cached = JSON.parse(await readFile(cachePath, 'utf8'));
    expect(cached).toMatchObject({ endpoint, repo: 'longmix-test/samples', revision: 'main', glob: 'data/*.jsonl' });
    expect(Date.parse(cached.listedAt)).toBeGreaterThan(0);
    vi.stubEnv('HF_ENDPOINT', endpoint);
    vi.stubEnv('LONGMIX_CACHE', cacheDir);
    vi.stubEnv('HF_TOKEN', '');
    const source = {
      name: 's',
      format: 'jsonl',
      paths: [url],
      window: 'short',
      budgetTokens: 'all',
      lengthTokens: { min: 2, max: 9 },
      maxRepetition: 1,
    } as SourceConfig;
    let onlineDocs = 0;
    for (const file of online) for await (const item of readInput(source, file)) onlineDocs += item.kind === 'doc' ? 1 : 0;
    await server.close();

    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const offline = await expandPaths('s', [url], cacheDir, options);
    expect(offline).toEqual(online);
    await expandPaths('s', [url], cacheDir, options);
    expect(stderr).toHaveBeenCalledTimes(1);
    expect(String(stderr.mock.calls[0][0])).toMatch(
      new RegExp(
        `^longmix: the hub at ${endpoint} cannot be reached \\(.*failed after [12] attempts \\(maxRetries 5\\): network error: fetch failed \\(ECONNREFUSED\\); nothing listens on this machine at that port; not retried\\); using cached listings, first hf://datasets/longmix-test/samples/data/\\*\\.jsonl as listed at ${cached.listedAt} \\(a branch may have moved since\\)\\n$`,
      ),
    );
    let offlineDocs = 0;
    for (const file of offline) for await (const item of readInput(source, file)) offlineDocs += item.kind === 'doc' ? 1 : 0;
    expect(offlineDocs).toBe(onlineDocs);
    expect(offlineDocs).toBeGreaterThan(0);

    // A location never listed has no cache to fall back on.
    const never = (await listHubFiles(parseHubUrl('hf://datasets/longmix-test/samples/books/*.txt'), options).catch((e: unknown) => e)) as Error;
    expect(never).toBeInstanceOf(InputError);
    expect(never.message).toMatch(/; nothing listens on this machine at that port; not retried; no cached listing to fall back on \(.*\.json\)$/);
  });
});

describe.skipIf(skipWithoutSharedSamples)('a hub Parquet file', () => {
  it('is read from its complete cached copy when there is one, else by ranges', async () => {
    const server = await startHubServer();
    const options = hubOptionsFromEnv({ endpoint: server.endpoint, cacheDir, token: undefined, maxRetries: 0, retryBaseMs: 1 });
    vi.stubEnv('LONGMIX_CACHE', cacheDir);
    const [file] = await expandPaths('s', ['hf://datasets/longmix-test/samples/sample/10BT/000_00000.parquet'], cacheDir, options);
    const rows = async () => {
      let n = 0;
      for await (const item of parquetRecords('s', file, ['text'])) n += item.kind === 'record' ? 1 : 0;
      return n;
    };
    expect(await rows()).toBe(20);
    expect(server.stats(file.hub!).responses.filter((r) => r.origin === 'cdn').length).toBeGreaterThan(0);
    await downloadHubFile(file.hub!, options);
    await server.close();
    expect(await rows()).toBe(20);
  });
});

describe.skipIf(skipWithoutSharedSamples)('a sibling file on the hub (RedPajama-v2 quality signals)', () => {
  it('is null when it does not exist, and an error when the hub cannot be reached', async () => {
    const server = await startHubServer();
    vi.stubEnv('HF_ENDPOINT', server.endpoint);
    vi.stubEnv('LONGMIX_CACHE', cacheDir);
    vi.stubEnv('HF_TOKEN', '');
    const sibling = localSiblings(cacheDir);
    expect(await sibling('hf://datasets/longmix-test/samples/data/none.signals.json.gz')).toBeNull();
    expect((await sibling('hf://datasets/longmix-test/samples/data/cc.jsonl'))?.relPath).toBe('hf://datasets/longmix-test/samples@main/data/cc.jsonl');
    await server.close();
    vi.stubEnv('HF_ENDPOINT', `http://127.0.0.1:${await deadPort()}`);
    const error = (await sibling('hf://datasets/longmix-test/samples/data/none.signals.json.gz').catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/failed after 1 attempts .*ECONNREFUSED.*no cached listing to fall back on/);
  });
});

describe('failures that cannot be transient are not retried for seconds', () => {
  it('connection refused on localhost: one attempt, even with 5 retries of 1 s backoff', async () => {
    // (Here no pooled connection exists; after a server closes, a pooled keep-alive socket may first
    // fail with a reset, which is retried, and then the refusal: hence "[12] attempts" above.)
    const options = hubOptionsFromEnv({ endpoint: `http://127.0.0.1:${await deadPort()}`, cacheDir, maxRetries: 5, retryBaseMs: 1000 });
    const error = (await listHubFiles(parseHubUrl('hf://datasets/a/b/*.jsonl'), options).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(
      ': failed after 1 attempts (maxRetries 5): network error: fetch failed (ECONNREFUSED); nothing listens on this machine at that port; not retried',
    );
  });

  it('a host name that does not resolve: retried once', async () => {
    const options = hubOptionsFromEnv({ endpoint: 'http://longmix-no-such-host.invalid', cacheDir, maxRetries: 5, retryBaseMs: 50 });
    const error = (await listHubFiles(parseHubUrl('hf://datasets/a/b/*.jsonl'), options).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(
      /: failed after 2 attempts \(maxRetries 5\): network error: fetch failed \((ENOTFOUND|EAI_AGAIN)\); a host name that does not resolve is retried once/,
    );
  }, 10_000);

  it('classifies fetch failures by the rule', () => {
    const failed = (code: string, address?: string) =>
      Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code, address }) });
    const rules = [
      classifyFetchError(failed('EAI_AGAIN'), 'https://huggingface.co/x'),
      classifyFetchError(failed('ECONNREFUSED', '::1'), 'http://localhost:1/x'),
      classifyFetchError(failed('ECONNREFUSED', '10.0.0.1'), 'http://mirror/x'),
      classifyFetchError(failed('CERT_HAS_EXPIRED'), 'https://mirror/x'),
      classifyFetchError(failed('ECONNRESET'), 'https://mirror/x'),
      classifyFetchError(new TypeError('Failed to parse URL from x'), 'x'),
    ].map((f) => [f.retries, f.network]);
    expect(rules).toEqual([
      [1, true],
      [0, true],
      [Infinity, true],
      [0, true],
      [Infinity, true],
      [0, false],
    ]);
  });
});

describe('URLs with credentials', () => {
  it('are refused up front in source paths, URL lists and HF_ENDPOINT, never showing the password', async () => {
    const error = (await expandPaths('web', ['https://alice:s3cret@data.example/a.jsonl'], cacheDir).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'Source "web": https://***@data.example/a.jsonl carries credentials (user:password@), which are not supported and would be recorded in the manifest; for the hub set HF_TOKEN (sent to the hub only), for another host give a URL that needs none',
    );
    const list = path.join(cacheDir, 'urls.txt');
    await writeFile(list, '# one\nhttps://ok.example/a.jsonl\nhttps://tok3n@ok.example/b.jsonl\n');
    const listed = (await expandPaths('web', [`urls:${list}`], cacheDir).catch((e: unknown) => e)) as Error;
    expect(listed.message).toBe(
      `${list}:3: https://***@ok.example/b.jsonl carries credentials (user:password@), which are not supported and would be recorded in the manifest; for the hub set HF_TOKEN (sent to the hub only), for another host give a URL that needs none`,
    );
    expect(() => parseUrlList('https://a:b@c/d\n', 'l')).toThrow(ConfigError);
    expect(() => hubOptionsFromEnv({ endpoint: 'https://bob:pw@hub.example' })).toThrow(
      'Expected the hub endpoint (HF_ENDPOINT) without credentials, got https://***@hub.example; set HF_TOKEN instead (sent as a bearer token to the hub only)',
    );
    for (const e of [error, listed]) expect(`${e.message} ${JSON.stringify((e as ConfigError).context)}`).not.toMatch(/s3cret|tok3n/);
    expect(redactCredentials('see https://u:p@h/x and http://h/y')).toBe('see https://***@h/x and http://h/y');
    expect(existsSync(path.join(cacheDir, '.listings'))).toBe(false);
  });
});
