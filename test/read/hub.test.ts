import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, InputError } from '../../src/core/errors.ts';
import { downloadHubFile, hubOptionsFromEnv, hubRangeReader, listHubFiles, type HubFile, type HubOptions } from '../../src/read/hub/client.ts';
import { backoffMs } from '../../src/read/hub/http.ts';
import { formatHubUrl, isHubUrl, parseHubUrl } from '../../src/read/hub/location.ts';
import { GATED_REPO, gitBlobSha1, startHubServer, type HubServer } from '../helpers/hubServer.ts';
import { SHARED_SAMPLES, skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';

const SECRET = 'hf_SECRET123';
const EXPECTED_FORM = 'Expected a Hugging Face dataset URL of the form "hf://datasets/<owner>/<name>[@<revision>]/<glob>"';
const GATED_HINT = 'This dataset may be gated: accept its terms on the hub page and set HF_TOKEN to a token with read access';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const sample = (rel: string): Promise<Buffer> => readFile(path.join(SHARED_SAMPLES, rel));

/** Rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** The error `run` throws, which must throw. */
function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

/** Asserts `error` is an instance of `type` with exactly `message`. */
function expectError(error: Error, type: typeof ConfigError | typeof InputError, message: string): void {
  expect(error).toBeInstanceOf(type);
  expect(error.message).toBe(message);
}

/** Every text an error exposes: messages, stacks and context of it and its causes. */
function exposedText(error: unknown): string {
  const parts: string[] = [];
  for (let e = error as { message?: string; stack?: string; context?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    parts.push(String(e.message), String(e.stack), JSON.stringify(e.context ?? null));
  }
  return parts.join('\n');
}

describe('parseHubUrl / isHubUrl / formatHubUrl', () => {
  it('parses the dataset forms', () => {
    expect(parseHubUrl('hf://datasets/HuggingFaceFW/fineweb-edu/sample/10BT/*.parquet')).toEqual({
      repo: 'HuggingFaceFW/fineweb-edu',
      revision: 'main',
      glob: 'sample/10BT/*.parquet',
    });
    expect(parseHubUrl('hf://datasets/togethercomputer/RedPajama-Data-1T@v1.0.0/arxiv/**')).toEqual({
      repo: 'togethercomputer/RedPajama-Data-1T',
      revision: 'v1.0.0',
      glob: 'arxiv/**',
    });
    expect(parseHubUrl('hf://datasets/o/n@refs%2Fconvert%2Fparquet/default/train/*.parquet')).toEqual({
      repo: 'o/n',
      revision: 'refs/convert/parquet',
      glob: 'default/train/*.parquet',
    });
    expect(parseHubUrl('hf://datasets/o/n@refs/convert/parquet/default/train/*.parquet')).toEqual({
      repo: 'o/n',
      revision: 'refs/convert/parquet',
      glob: 'default/train/*.parquet',
    });
    expect(parseHubUrl('hf://datasets/o/n@refs/pr/7/data/*.jsonl')).toEqual({ repo: 'o/n', revision: 'refs/pr/7', glob: 'data/*.jsonl' });
    expect(parseHubUrl('hf://datasets/o/my_data.v2/**/*.{jsonl,jsonl.zst}')).toEqual({
      repo: 'o/my_data.v2',
      revision: 'main',
      glob: '**/*.{jsonl,jsonl.zst}',
    });
  });

  it('tells hf:// URLs apart', () => {
    expect(isHubUrl('hf://datasets/o/n/x')).toBe(true);
    expect(isHubUrl('hf://anything')).toBe(true);
    expect(isHubUrl('HF://datasets/o/n/x')).toBe(false);
    expect(isHubUrl('data/x.jsonl')).toBe(false);
    expect(isHubUrl('https://huggingface.co/datasets/o/n')).toBe(false);
  });

  it('round-trips through formatHubUrl', () => {
    for (const loc of [
      { repo: 'o/n', revision: 'main', glob: 'data/*.jsonl' },
      { repo: 'o/n', revision: 'refs/convert/parquet', glob: 'default/**' },
      { repo: 'o/n', revision: 'v1.0', glob: 'a b/*.txt' },
    ]) {
      expect(parseHubUrl(formatHubUrl(loc))).toEqual(loc);
    }
    expect(formatHubUrl({ repo: 'o/n', revision: 'refs/convert/parquet', glob: 'd/*' })).toBe('hf://datasets/o/n@refs%2Fconvert%2Fparquet/d/*');
  });

  it('rejects everything else with a ConfigError naming the URL and the expected form', () => {
    const cases: [string, string][] = [
      ['https://huggingface.co/datasets/o/n/x', 'it does not start with "hf://"'],
      ['hf://models/meta-llama/Llama-3/*.bin', 'models are not supported, only datasets'],
      ['hf://spaces/o/n/app.py', 'spaces are not supported, only datasets'],
      ['hf://meta-llama/Llama-3/*.bin', 'expected "datasets/" after "hf://", got "meta-llama/" (models and spaces are not supported)'],
      ['hf://datasets/owner', 'expected an owner, a repository name and a path glob after "datasets/"'],
      ['hf://datasets/owner/name', 'expected an owner, a repository name and a path glob after "datasets/"'],
      ['hf://datasets/owner/name/', 'the path glob is empty (use "**" for every file)'],
      ['hf://datasets/owner/name@/x', 'the revision after "@" is empty'],
      ['hf://datasets/owner/name@%E0%A4%A/x', 'the revision "%E0%A4%A" is not validly percent-encoded'],
      ['hf://datasets/owner/name/data/../secret', 'the path glob "data/../secret" has an empty, "." or ".." segment'],
      ['hf://datasets/owner/name//x', 'the path glob "/x" has an empty, "." or ".." segment'],
      ['hf://datasets/own er/name/x', '"own er" is not a valid owner or repository name (letters, digits, "_", "-", ".")'],
    ];
    for (const [url, reason] of cases) {
      expectError(
        thrown(() => parseHubUrl(url)),
        ConfigError,
        `${EXPECTED_FORM}, got "${url}": ${reason}`,
      );
    }
  });
});

describe('hubOptionsFromEnv', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('reads HF_ENDPOINT, HF_TOKEN and LONGMIX_CACHE, with documented defaults', () => {
    vi.stubEnv('HF_ENDPOINT', undefined);
    vi.stubEnv('HF_TOKEN', ''); // empty means no token
    vi.stubEnv('LONGMIX_CACHE', undefined);
    expect(hubOptionsFromEnv()).toEqual({
      endpoint: 'https://huggingface.co',
      cacheDir: path.join(os.homedir(), '.cache', 'longmix', 'hub'),
      maxRetries: 5,
      retryBaseMs: 500,
    });
    vi.stubEnv('HF_ENDPOINT', 'http://mirror.example/');
    vi.stubEnv('HF_TOKEN', SECRET);
    vi.stubEnv('LONGMIX_CACHE', '/var/cache/lm');
    expect(hubOptionsFromEnv()).toEqual({ endpoint: 'http://mirror.example', token: SECRET, cacheDir: '/var/cache/lm', maxRetries: 5, retryBaseMs: 500 });
    expect(hubOptionsFromEnv({ token: undefined, maxRetries: 0, retryBaseMs: 5 })).toEqual({
      endpoint: 'http://mirror.example',
      cacheDir: '/var/cache/lm',
      maxRetries: 0,
      retryBaseMs: 5,
    });
  });

  it('rejects bad values with ConfigError', () => {
    expectError(
      thrown(() => hubOptionsFromEnv({ endpoint: 'ftp://x' })),
      ConfigError,
      'Expected the hub endpoint (HF_ENDPOINT) to be an http(s) URL, got "ftp://x"',
    );
    expectError(
      thrown(() => hubOptionsFromEnv({ endpoint: 'http://x', maxRetries: 1.5 })),
      ConfigError,
      'Expected hub maxRetries to be an integer ≥ 0, got 1.5',
    );
    expectError(
      thrown(() => hubOptionsFromEnv({ endpoint: 'http://x', retryBaseMs: -1 })),
      ConfigError,
      'Expected hub retryBaseMs to be a number of milliseconds ≥ 0, got -1',
    );
  });

  it('backs off exponentially with a deterministic jitter under 50%', () => {
    const delays = [0, 1, 2, 3].map((k) => backoffMs('u', k, 100));
    expect(delays).toEqual([0, 1, 2, 3].map((k) => backoffMs('u', k, 100)));
    delays.forEach((d, k) => {
      expect(d).toBeGreaterThanOrEqual(100 * 2 ** k);
      expect(d).toBeLessThan(150 * 2 ** k);
    });
  });
});

describe.skipIf(skipWithoutSharedSamples)('hub client against a local fake hub', () => {
  let server: HubServer;
  let cacheDir: string;
  const options = (overrides: Partial<HubOptions> = {}): HubOptions =>
    hubOptionsFromEnv({ endpoint: server.endpoint, cacheDir, token: undefined, maxRetries: 3, retryBaseMs: 5, ...overrides });
  const list = (url: string, overrides: Partial<HubOptions> = {}): Promise<HubFile[]> => listHubFiles(parseHubUrl(url), options(overrides));
  const one = async (url: string, overrides: Partial<HubOptions> = {}): Promise<HubFile> => {
    const files = await list(url, overrides);
    expect(files).toHaveLength(1);
    return files[0];
  };
  const target = (file: HubFile, revisionDir = 'main'): string => path.join(cacheDir, ...file.repo.split('/'), revisionDir, ...file.path.split('/'));

  beforeAll(async () => {
    server = await startHubServer({ pageSize: 2 });
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    server.reset();
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'longmix-hub-'));
  });
  afterEach(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('computes git blob ids as git does', () => {
    expect(gitBlobSha1(Buffer.from('hello\n'))).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
  });

  it('lists a glob recursively over Link-paginated tree pages, sorted, with sizes and hashes', async () => {
    const files = await list('hf://datasets/longmix-test/samples/data/**/*.jsonl*');
    const sources: [string, string, number, boolean][] = [
      ['data/arxiv.jsonl', 'redpajama-v1/arxiv.jsonl', 1_218_793, false],
      ['data/cc.jsonl', 'redpajama-v1/redpajama-cc-2023-06-refined.jsonl', 70_152, false],
      ['data/cc.jsonl.zst', 'redpajama-v1/redpajama-cc-2023-06-refined.jsonl.zst', 27_780, true],
      ['data/ccnet/cc_en_head-0091.jsonl.gz', 'redpajama-v2-like-ccnet/cc_en_head-0091.jsonl.gz', 41_066, true],
      ['data/ccnet/cc_en_head-0174.jsonl.gz', 'redpajama-v2-like-ccnet/cc_en_head-0174.jsonl.gz', 27_768, true],
    ];
    const expected: HubFile[] = [];
    for (const [p, source, sizeBytes, lfs] of sources) {
      const content = await sample(source);
      expect(content.length).toBe(sizeBytes);
      expected.push({
        repo: 'longmix-test/samples',
        revision: 'main',
        path: p,
        sizeBytes,
        etag: lfs ? sha256(content) : gitBlobSha1(content),
        sha256: lfs ? sha256(content) : null,
        url: `${server.endpoint}/datasets/longmix-test/samples/resolve/main/${p}`,
      });
    }
    expect(files).toEqual(expected);
    // data/ holds 5 files and 1 directory: 3 pages of 2, only the glob's folder listed.
    const base = '/api/datasets/longmix-test/samples/tree/main/data?recursive=true&expand=false';
    expect(server.treeRequests).toEqual([
      { url: base, authorization: null },
      { url: `${base}&cursor=2`, authorization: null },
      { url: `${base}&cursor=4`, authorization: null },
    ]);
  });

  it('lists a plain path, a brace glob and a non-main revision', async () => {
    expect((await list('hf://datasets/longmix-test/samples/books/972.txt')).map((f) => [f.path, f.sizeBytes])).toEqual([['books/972.txt', 394_044]]);
    expect(server.treeRequests.map((r) => r.url)).toEqual(['/api/datasets/longmix-test/samples/tree/main/books?recursive=true&expand=false']);
    const all = await list('hf://datasets/longmix-test/samples/{README.md,sample/**/*.parquet}');
    expect(all.map((f) => [f.path, f.sizeBytes])).toEqual([
      ['README.md', 1146],
      ['sample/10BT/000_00000.parquet', 67_790],
      ['sample/10BT/001_00000.parquet', 99_386],
    ]);
    const file = await one('hf://datasets/longmix-test/samples@refs%2Fconvert%2Fparquet/default/train/*.parquet');
    expect(file.revision).toBe('refs/convert/parquet');
    expect(file.url).toBe(`${server.endpoint}/datasets/longmix-test/samples/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet`);
    const local = await downloadHubFile(file, options());
    expect(local).toBe(target(file, 'refs%2Fconvert%2Fparquet'));
    expect(sha256(await readFile(local))).toBe(sha256(await sample('fineweb-edu-like/ccnet-as-fineweb-edu.zstd.parquet')));
  });

  it('fails with InputError naming the URL when nothing matches or nothing is there', async () => {
    expectError(
      await rejection(list('hf://datasets/longmix-test/samples/data/*.csv')),
      InputError,
      'hf://datasets/longmix-test/samples/data/*.csv: the glob "data/*.csv" matches no file of dataset longmix-test/samples at revision "main"',
    );
    const missingFolder = await rejection(list('hf://datasets/longmix-test/samples/nope/*.jsonl'));
    expect(missingFolder).toBeInstanceOf(InputError);
    expect(missingFolder.message).toBe(
      `hf://datasets/longmix-test/samples/nope/*.jsonl: not found (HTTP 404 from ${server.endpoint}/api/datasets/longmix-test/samples/tree/main/nope?recursive=true&expand=false); check the dataset "longmix-test/samples", the revision "main" and the folder "nope"`,
    );
    const missingRevision = await rejection(list('hf://datasets/longmix-test/samples@v9/**'));
    expect(missingRevision.message).toBe(
      `hf://datasets/longmix-test/samples@v9/**: not found (HTTP 404 from ${server.endpoint}/api/datasets/longmix-test/samples/tree/v9?recursive=true&expand=false); check the dataset "longmix-test/samples", the revision "v9" and the folder ""`,
    );
  });

  it('downloads into the cache, verifies it, and serves the cached copy without a request', async () => {
    const file = await one('hf://datasets/longmix-test/samples/data/arxiv.jsonl');
    const local = await downloadHubFile(file, options());
    expect(local).toBe(target(file));
    const source = await sample('redpajama-v1/arxiv.jsonl');
    expect(sha256(await readFile(local))).toBe(sha256(source));
    expect(server.stats(file)).toMatchObject({ requests: 1, bytes: 1_218_793 });
    expect(JSON.parse(await readFile(`${local}.meta.json`, 'utf8'))).toEqual({
      etag: gitBlobSha1(source),
      path: 'data/arxiv.jsonl',
      repo: 'longmix-test/samples',
      revision: 'main',
      sha256: null,
      sizeBytes: 1_218_793,
    });
    expect(existsSync(`${local}.part`)).toBe(false);
    expect(await downloadHubFile(file, options())).toBe(local);
    expect(server.stats(file).requests).toBe(1);
    // A sidecar from another version of the file (other etag) means the copy is stale.
    await writeFile(`${local}.meta.json`, JSON.stringify({ ...file, etag: 'old' }));
    expect(await downloadHubFile(file, options())).toBe(local);
    expect(server.stats(file)).toMatchObject({ requests: 2, bytes: 2 * 1_218_793 });
  });

  it('follows the LFS redirect to the CDN, sending the token to the hub only', async () => {
    const file = await one('hf://datasets/longmix-test/samples/data/cc.jsonl.zst', { token: SECRET });
    const local = await downloadHubFile(file, options({ token: SECRET }));
    expect(sha256(await readFile(local))).toBe(file.sha256);
    expect(file.sha256).toBe(sha256(await sample('redpajama-v1/redpajama-cc-2023-06-refined.jsonl.zst')));
    expect(server.stats(file).responses).toEqual([
      { origin: 'hub', status: 302, range: null, bytes: 0, authorization: `Bearer ${SECRET}` },
      { origin: 'cdn', status: 200, range: null, bytes: 27_780, authorization: null },
    ]);
    expect(server.treeRequests.every((r) => r.authorization === `Bearer ${SECRET}`)).toBe(true);
    expect(local.includes(SECRET) || JSON.stringify(file).includes(SECRET)).toBe(false);
  });

  it('resumes a partial .part file with a Range request for the remaining bytes', async () => {
    const file = await one('hf://datasets/longmix-test/samples/data/arxiv.jsonl');
    const source = await sample('redpajama-v1/arxiv.jsonl');
    await mkdir(path.dirname(target(file)), { recursive: true });
    await writeFile(`${target(file)}.part`, source.subarray(0, 100_000));
    const local = await downloadHubFile(file, options());
    expect(sha256(await readFile(local))).toBe(sha256(source));
    expect(server.stats(file).responses).toEqual([{ origin: 'hub', status: 206, range: [100_000, 1_218_793], bytes: 1_118_793, authorization: null }]);
  });

  it('resumes after a connection dropped mid-body, fetching only the missing bytes', async () => {
    const file = await one('hf://datasets/longmix-test/samples/data/arxiv.jsonl');
    server.inject(file.repo, file.path, { kind: 'drop', times: 1 });
    const local = await downloadHubFile(file, options());
    expect(sha256(await readFile(local))).toBe(sha256(await sample('redpajama-v1/arxiv.jsonl')));
    const [first, second, ...more] = server.stats(file).responses;
    const half = Math.floor(1_218_793 / 2);
    expect(more).toEqual([]);
    expect(first).toEqual({ origin: 'hub', status: 200, range: null, bytes: half, authorization: null });
    // The part kept a prefix of what arrived before the drop (at most the half that was sent).
    const resumedAt = second.range![0];
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(half);
    expect(second).toEqual({ origin: 'hub', status: 206, range: [resumedAt, 1_218_793], bytes: 1_218_793 - resumedAt, authorization: null });
  });

  it('retries 429 (honouring Retry-After) and 5xx, then succeeds', async () => {
    const file = await one('hf://datasets/longmix-test/samples/data/cc.jsonl.zst');
    server.inject(file.repo, file.path, { kind: 'status', status: 429, times: 2, retryAfterSeconds: 0 });
    await downloadHubFile(file, options());
    expect(server.stats(file).responses.map((r) => `${r.origin} ${r.status}`)).toEqual(['hub 429', 'hub 429', 'hub 302', 'cdn 200']);
    const other = await one('hf://datasets/longmix-test/samples/data/cc.jsonl');
    server.inject(other.repo, other.path, { kind: 'status', status: 500, times: 1 });
    server.inject(other.repo, other.path, { kind: 'status', status: 503, times: 1 });
    const local = await downloadHubFile(other, options());
    expect(sha256(await readFile(local))).toBe(sha256(await sample('redpajama-v1/redpajama-cc-2023-06-refined.jsonl')));
    expect(server.stats(other).responses.map((r) => r.status)).toEqual([500, 503, 200]);
  });

  it('gives up after maxRetries with an InputError naming the URL', async () => {
    const file = await one('hf://datasets/longmix-test/samples/data/cc.jsonl');
    server.inject(file.repo, file.path, { kind: 'status', status: 503, times: 10 });
    const error = await rejection(downloadHubFile(file, options({ maxRetries: 2 })));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(`${file.url}: failed after 3 attempts (maxRetries 2): HTTP 503`);
    expect(server.stats(file).requests).toBe(3);
    expect(existsSync(target(file)) || existsSync(`${target(file)}.part`)).toBe(false);
  });

  it('restarts from byte 0 when a resume is answered 200 or with a wrong Content-Range', async () => {
    const file = await one('hf://datasets/longmix-test/samples/data/cc.jsonl');
    const source = await sample('redpajama-v1/redpajama-cc-2023-06-refined.jsonl');
    const part = `${target(file)}.part`;
    await mkdir(path.dirname(part), { recursive: true });
    await writeFile(part, source.subarray(0, 1000));
    server.inject(file.repo, file.path, { kind: 'ignoreRange', times: 1 });
    expect(sha256(await readFile(await downloadHubFile(file, options())))).toBe(sha256(source));
    expect(server.stats(file).responses).toEqual([{ origin: 'hub', status: 200, range: [1000, 70_152], bytes: 70_152, authorization: null }]);

    server.reset();
    await rm(target(file));
    await writeFile(part, source.subarray(0, 1000));
    server.inject(file.repo, file.path, { kind: 'wrongRange', times: 1 });
    expect(sha256(await readFile(await downloadHubFile(file, options())))).toBe(sha256(source));
    expect(server.stats(file).responses.map((r) => [r.status, r.range])).toEqual([
      [206, [1000, 70_152]],
      [200, null],
    ]);
  });

  it('discards a stale .part whose content does not match the listing, then downloads again', async () => {
    for (const url of ['hf://datasets/longmix-test/samples/data/cc.jsonl.zst', 'hf://datasets/longmix-test/samples/data/cc.jsonl']) {
      const file = await one(url);
      const part = `${target(file)}.part`;
      await mkdir(path.dirname(part), { recursive: true });
      await writeFile(part, Buffer.alloc(5000, 0x61));
      const local = await downloadHubFile(file, options());
      expect(gitBlobSha1(await readFile(local)) === file.etag || sha256(await readFile(local)) === file.etag).toBe(true);
      const bodies = server.stats(file).responses.filter((r) => r.status !== 302);
      expect(bodies.map((r) => [r.status, r.range, r.bytes])).toEqual([
        [206, [5000, file.sizeBytes], file.sizeBytes - 5000],
        [200, null, file.sizeBytes],
      ]);
    }
  });

  it('explains gated datasets on 401/403 and never exposes the token', async () => {
    const gatedUrl = 'hf://datasets/longmix-test/gated/data/*.zst';
    const listUrl = `${server.endpoint}/api/datasets/longmix-test/gated/tree/main/data?recursive=true&expand=false`;
    const anonymous = await rejection(list(gatedUrl));
    expect(anonymous).toBeInstanceOf(InputError);
    expect(anonymous.message).toBe(`${listUrl}: access denied (HTTP 401). ${GATED_HINT}`);
    const refused = await rejection(list(gatedUrl, { token: SECRET }));
    expect(refused).toBeInstanceOf(InputError);
    expect(refused.message).toBe(`${listUrl}: access denied (HTTP 403). The token that was set (HF_TOKEN) was refused. ${GATED_HINT}`);
    expect(exposedText(refused)).not.toContain(SECRET);

    const file = await one(gatedUrl, { token: GATED_REPO.token });
    expect(file.url).toBe(`${server.endpoint}/datasets/longmix-test/gated/resolve/main/data/cc.jsonl.zst`);
    const noToken = await rejection(downloadHubFile(file, options()));
    expect(noToken.message).toBe(`${file.url}: access denied (HTTP 401). ${GATED_HINT}`);
    const wrongToken = await rejection(downloadHubFile(file, options({ token: SECRET })));
    expect(wrongToken).toBeInstanceOf(InputError);
    expect(wrongToken.message).toBe(`${file.url}: access denied (HTTP 403). The token that was set (HF_TOKEN) was refused. ${GATED_HINT}`);
    expect(exposedText(wrongToken)).not.toContain(SECRET);
    const rangeError = await rejection(Promise.resolve(hubRangeReader(file, options({ token: SECRET })).slice(0, 4)));
    expect(rangeError.message).toBe(wrongToken.message);
    expect(exposedText(rangeError)).not.toContain(SECRET);
    expect(server.stats(file).responses).toEqual([]); // refused before any byte was served

    const local = await downloadHubFile(file, options({ token: GATED_REPO.token }));
    expect(sha256(await readFile(local))).toBe(file.sha256);
  });

  it('rejects a token that is not an hf_ token without printing it', async () => {
    const error = await rejection(list('hf://datasets/longmix-test/samples/data/*.jsonl', { token: 'abc_SECRET123' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe('Expected HF_TOKEN to be a Hugging Face access token starting with "hf_", got one of 13 characters that does not');
    expect(exposedText(error)).not.toContain('SECRET123');
  });

  it('names the URL of a missing file (404)', async () => {
    const file = await one('hf://datasets/longmix-test/samples/data/cc.jsonl');
    const missing = { ...file, path: 'data/missing.jsonl', url: file.url.replace('cc.jsonl', 'missing.jsonl') };
    const error = await rejection(downloadHubFile(missing, options()));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      `${server.endpoint}/datasets/longmix-test/samples/resolve/main/data/missing.jsonl: not found (HTTP 404); check the dataset name, the revision and the path`,
    );
  });

  it('reads Parquet metadata and rows by Range requests, fetching only the footer for metadata', async () => {
    const file = await one('hf://datasets/longmix-test/samples/sample/10BT/000_00000.parquet');
    const sourcePath = path.join(SHARED_SAMPLES, 'fineweb-edu-like/ccnet-as-fineweb-edu.zstd.parquet');
    const localMeta = await parquetMetadataAsync(await asyncBufferFromFile(sourcePath));
    const reader = hubRangeReader(file, options());
    expect(reader.byteLength).toBe(67_790);
    expect(server.stats(file).requests).toBe(0);

    // The footer's metadata is 3,245 bytes: a 4,096-byte initial fetch holds it (one range);
    // a 1,024-byte one needs a second range for the rest (3,245 + 8 bytes in all).
    const meta = await parquetMetadataAsync(reader, { initialFetchSize: 4096 });
    expect(meta.num_rows).toBe(localMeta.num_rows);
    expect(meta.schema.map((s) => s.name)).toEqual(localMeta.schema.map((s) => s.name));
    expect(
      server
        .stats(file)
        .responses.filter((r) => r.origin === 'cdn')
        .map((r) => [r.status, r.range, r.bytes]),
    ).toEqual([[206, [63_694, 67_790], 4096]]);
    server.reset();
    await parquetMetadataAsync(reader, { initialFetchSize: 1024 });
    expect(
      server
        .stats(file)
        .responses.filter((r) => r.origin === 'cdn')
        .map((r) => [r.range, r.bytes]),
    ).toEqual([
      [[66_766, 67_790], 1024],
      [[64_537, 66_766], 2229],
    ]);
    expect(server.stats(file).bytes).toBe(3253);

    const rows = await parquetReadObjects({ file: reader, metadata: meta, columns: ['text'], compressors });
    const localRows = await parquetReadObjects({ file: await asyncBufferFromFile(sourcePath), columns: ['text'], compressors });
    expect(rows).toHaveLength(20);
    expect(rows).toEqual(localRows);
    expect(Buffer.from(await reader.slice(0, 4)).toString('latin1')).toBe('PAR1');
  });

  it('range reads: empty ranges need no request, bad ranges throw, faults are retried or reported', async () => {
    const file = await one('hf://datasets/longmix-test/samples/sample/10BT/001_00000.parquet');
    const reader = hubRangeReader(file, options());
    expect((await reader.slice(10, 10)).byteLength).toBe(0);
    expect(server.stats(file).requests).toBe(0);
    expectError(await rejection(reader.slice(5, 99_387)), InputError, `${file.url}: expected a byte range [start, end) within [0, 99386], got [5, 99387)`);
    expectError(await rejection(reader.slice(-1, 4)), InputError, `${file.url}: expected a byte range [start, end) within [0, 99386], got [-1, 4)`);

    server.inject(file.repo, file.path, { kind: 'status', status: 503, times: 1 });
    server.inject(file.repo, file.path, { kind: 'drop', times: 1 });
    const bytes = await reader.slice(1000, 3000);
    const source = await sample('fineweb-edu-like/ccnet-as-fineweb-edu.snappy.parquet');
    expect(Buffer.from(bytes).equals(source.subarray(1000, 3000))).toBe(true);
    expect(server.stats(file).responses.map((r) => [r.origin, r.status, r.bytes])).toEqual([
      ['hub', 503, 0],
      ['hub', 302, 0],
      ['cdn', 206, 1000],
      ['hub', 302, 0],
      ['cdn', 206, 2000],
    ]);

    server.inject(file.repo, file.path, { kind: 'ignoreRange', times: 1 });
    expectError(
      await rejection(reader.slice(0, 8)),
      InputError,
      `${file.url}: asked for bytes [0, 8) of 99386, got HTTP 200 (Range ignored); the server does not serve this file by ranges or it changed since it was listed: download it instead`,
    );
  });
});
