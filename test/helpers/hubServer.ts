/**
 * Test helper: a fake Hugging Face hub on 127.0.0.1 (port 0), serving dataset repositories whose
 * files are real files of ../shared/samples (read, never copied).
 *
 * Implements what the hub layer calls:
 * - `GET /api/datasets/<owner>/<name>/tree/<revision>[/<folder>]?recursive=…&expand=…[&cursor=…]`:
 *   JSON entries (`type`, `oid`, `size`, `path`, `lfs` for LFS files; directories too), in reverse
 *   path order (clients must sort), `pageSize` a page with `Link: <…&cursor=N>; rel="next"` as the
 *   hub paginates (what @huggingface/hub 2.17.5 `listFiles` follows).
 * - `GET /datasets/<owner>/<name>/resolve/<revision>/<path>`: regular files are served here; LFS
 *   files (`.parquet`, `.zst`, `.gz`) answer 302 with `X-Linked-Etag: "<sha256>"` to a second
 *   server (another origin, the "CDN", content-addressed: `/cdn/<id>` keeps serving the version
 *   it was made for), as the hub redirects to its CDN. Bodies support `Range: bytes=a-b | a-`
 *   (206 + Content-Range, 416 when unsatisfiable). The hub's `ETag` is the git blob id; the CDN's
 *   is its own (`"cdn-<md5>"`, as S3 and CloudFront give), not the listing's. Both answer 412 to
 *   an `If-Match` that is not their current ETag.
 * - `replace()` changes a file's content (and so its listing and ETags), e.g. in the middle of a read.
 * - A gated repository: 401 without `Authorization`, 403 with a wrong bearer token.
 * - Faults queued per file: HTTP 429 (with Retry-After) / 500 / 503 at resolve; at the body, a
 *   dropped connection (half the bytes, then the socket is destroyed), a Range request answered
 *   200 with the whole file, a 206 with a wrong Content-Range, or If-Match ignored.
 * - Counts requests and body bytes per file, every response, and the If-Match each carried.
 * The servers are unref'd and `close()` ends them and their connections.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The shared samples folder, relative to this file (../shared/samples beside the repository). */
export const SAMPLES_URL = new URL('../../../shared/samples/', import.meta.url);

/** One file of a fake repository: its path and the sample file (relative to SAMPLES_URL) it serves, or its bytes. */
export interface FakeFileSpec {
  path: string;
  source?: string;
  content?: Buffer;
}

/** A fake dataset repository: files per revision; `token` makes it gated. */
export interface FakeRepoSpec {
  repo: string;
  revisions: Record<string, FakeFileSpec[]>;
  token?: string;
}

/** The public test dataset. */
export const PUBLIC_REPO: FakeRepoSpec = {
  repo: 'longmix-test/samples',
  revisions: {
    main: [
      { path: 'data/arxiv.jsonl', source: 'redpajama-v1/arxiv.jsonl' },
      { path: 'data/cc.jsonl', source: 'redpajama-v1/redpajama-cc-2023-06-refined.jsonl' },
      { path: 'data/cc.jsonl.zst', source: 'redpajama-v1/redpajama-cc-2023-06-refined.jsonl.zst' },
      { path: 'data/ccnet/cc_en_head-0091.jsonl.gz', source: 'redpajama-v2-like-ccnet/cc_en_head-0091.jsonl.gz' },
      { path: 'data/ccnet/cc_en_head-0174.jsonl.gz', source: 'redpajama-v2-like-ccnet/cc_en_head-0174.jsonl.gz' },
      { path: 'sample/10BT/000_00000.parquet', source: 'fineweb-edu-like/ccnet-as-fineweb-edu.zstd.parquet' },
      { path: 'sample/10BT/001_00000.parquet', source: 'fineweb-edu-like/ccnet-as-fineweb-edu.snappy.parquet' },
      { path: 'books/972.txt', source: 'pg19-like-gutenberg/972.txt' },
      { path: 'README.md', source: 'fineweb-edu-like/SOURCES.md' },
    ],
    'refs/convert/parquet': [{ path: 'default/train/0000.parquet', source: 'fineweb-edu-like/ccnet-as-fineweb-edu.zstd.parquet' }],
  },
};

/** The gated test dataset and the one token it accepts. */
export const GATED_REPO: FakeRepoSpec = {
  repo: 'longmix-test/gated',
  revisions: { main: [{ path: 'data/cc.jsonl.zst', source: 'redpajama-v1/redpajama-cc-2023-06-refined.jsonl.zst' }] },
  token: 'hf_GOODTOKEN',
};

/** A fault injected into the next `times` requests of one file. */
export type Fault =
  | { kind: 'status'; status: 429 | 500 | 503; times: number; retryAfterSeconds?: number }
  | { kind: 'drop' | 'ignoreRange' | 'wrongRange' | 'ignoreIfMatch'; times: number };

/** One response of the resolve or CDN endpoint for a file. */
export interface ServedResponse {
  origin: 'hub' | 'cdn';
  status: number;
  /** Requested range `[start, end)`, or null without a Range header. */
  range: [number, number] | null;
  /** Body bytes written. */
  bytes: number;
  /** The Authorization header received, or null. */
  authorization: string | null;
}

/** Per file: responses in order, and their totals. */
export interface FileStats {
  requests: number;
  bytes: number;
  responses: ServedResponse[];
  /** Per response, in the same order: where it came from and the If-Match header received (or null). */
  ifMatch: { origin: 'hub' | 'cdn'; value: string | null }[];
}

/** A file the server serves. */
interface Served {
  repo: FakeRepoSpec;
  path: string;
  content: Buffer;
  lfs: boolean;
  oid: string;
  sha256: string;
}

/** A running fake hub. */
export interface HubServer {
  /** `http://127.0.0.1:<port>` of the hub (use as `HubOptions.endpoint`). */
  endpoint: string;
  /** Replaces the content of the file `path` of `repo` (revision `main` unless given); later listings and responses show the new version. */
  replace(repo: string, path: string, content: Buffer, revision?: string): void;
  /** Queues `fault` for the file `path` of `repo` (revision `main` unless given). */
  inject(repo: string, path: string, fault: Fault, revision?: string): void;
  /** Responses served for one file so far. */
  stats(file: { repo: string; revision: string; path: string }): FileStats;
  /** Tree listing requests so far (path + query), and the Authorization headers they carried. */
  treeRequests: { url: string; authorization: string | null }[];
  /** Forgets counts and queued faults. */
  reset(): void;
  /** Closes both servers and their connections. */
  close(): Promise<void>;
}

/** Git blob id: sha1 over `blob <size>\0` + content (the hub's oid of a regular file). */
export function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

function served(repo: FakeRepoSpec, path: string, content: Buffer): Served {
  const sha256 = createHash('sha256').update(content).digest('hex');
  const lfs = /\.(parquet|zst|gz)$/.test(path);
  const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${content.length}\n`);
  return { repo, path, content, lfs, oid: gitBlobSha1(lfs ? pointer : content), sha256 };
}

/** The CDN's own ETag of a content (an S3-style MD5), unrelated to the hub's. */
const cdnEtag = (content: Buffer) => `"cdn-${createHash('md5').update(content).digest('hex')}"`;

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Tree entries (files and directories) of a revision under `folder` (all when empty). */
function treeEntries(files: Served[], folder: string, recursive: boolean): Record<string, unknown>[] {
  const prefix = folder === '' ? '' : `${folder}/`;
  const dirs = new Set<string>();
  const entries: Record<string, unknown>[] = [];
  for (const f of files) {
    if (!f.path.startsWith(prefix)) continue;
    const parts = f.path.slice(prefix.length).split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(prefix + parts.slice(0, i).join('/'));
    if (!recursive && parts.length > 1) continue;
    const lfs = f.lfs ? { lfs: { oid: f.sha256, size: f.content.length, pointerSize: 130 } } : {};
    entries.push({ type: 'file', oid: f.oid, size: f.content.length, path: f.path, ...lfs });
  }
  for (const d of dirs) {
    if (recursive || !d.slice(prefix.length).includes('/')) entries.push({ type: 'directory', oid: gitBlobSha1(Buffer.from(d)), size: 0, path: d });
  }
  return entries.sort((a, b) => (String(a.path) < String(b.path) ? 1 : -1));
}

/** Starts the fake hub (and its CDN) on 127.0.0.1; `pageSize` entries per tree page. */
export async function startHubServer(options: { pageSize?: number; repos?: FakeRepoSpec[] } = {}): Promise<HubServer> {
  const pageSize = options.pageSize ?? 2;
  const repos = options.repos ?? [PUBLIC_REPO, GATED_REPO];
  const files = new Map<string, Served>(); // key `${repo}@${revision}:${path}`
  // Every version of every LFS file ever served, by id: `/cdn/<id>` never changes content.
  const cdn: { key: string; content: Buffer }[] = [];
  const cdnIds = new Map<string, number>(); // `${key}|${sha256}` -> id
  const add = (key: string, file: Served) => {
    files.set(key, file);
    if (file.lfs && !cdnIds.has(`${key}|${file.sha256}`)) cdnIds.set(`${key}|${file.sha256}`, cdn.push({ key, content: file.content }) - 1);
  };
  for (const repo of repos) {
    for (const [revision, specs] of Object.entries(repo.revisions)) {
      for (const spec of specs)
        add(`${repo.repo}@${revision}:${spec.path}`, served(repo, spec.path, spec.content ?? readFileSync(new URL(spec.source!, SAMPLES_URL))));
    }
  }
  let faults = new Map<string, Fault[]>();
  let stats = new Map<string, FileStats>();
  const treeRequests: HubServer['treeRequests'] = [];
  const statsOf = (key: string): FileStats => {
    if (!stats.has(key)) stats.set(key, { requests: 0, bytes: 0, responses: [], ifMatch: [] });
    return stats.get(key)!;
  };
  const takeFault = (key: string, kinds: Fault['kind'][]): Fault | null => {
    const queue = faults.get(key) ?? [];
    const fault = queue.find((f) => kinds.includes(f.kind) && f.times > 0);
    if (!fault) return null;
    fault.times--;
    return fault;
  };
  const record = (key: string, response: ServedResponse, req?: http.IncomingMessage): void => {
    const s = statsOf(key);
    s.requests++;
    s.bytes += response.bytes;
    s.responses.push(response);
    s.ifMatch.push({ origin: response.origin, value: req?.headers['if-match'] ?? null });
  };

  /** Checks the gated repo's token; answers 401/403 and returns false when refused. */
  const authorized = (repo: FakeRepoSpec, req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    if (!repo.token) return true;
    const auth = req.headers.authorization;
    if (auth === undefined) sendJson(res, 401, { error: 'Access to this dataset is restricted. You must be authenticated.' });
    else if (auth !== `Bearer ${repo.token}`) sendJson(res, 403, { error: 'Access to this dataset is restricted and you are not in the authorized list.' });
    return auth === `Bearer ${repo.token}`;
  };

  const serveBody = (key: string, content: Buffer, etag: string, origin: 'hub' | 'cdn', req: http.IncomingMessage, res: http.ServerResponse): void => {
    const size = content.length;
    const authorization = req.headers.authorization ?? null;
    const ifMatch = takeFault(key, ['ignoreIfMatch']) ? undefined : req.headers['if-match'];
    if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.split(',').some((t) => t.trim() === etag)) {
      res.writeHead(412, { etag }).end();
      return record(key, { origin, status: 412, range: null, bytes: 0, authorization }, req);
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let range: [number, number] | null = null;
    if (req.headers.range !== undefined) {
      const start = m ? Number(m[1]) : NaN;
      const end = m && m[2] !== '' ? Math.min(Number(m[2]) + 1, size) : size;
      if (!m || start >= size || start >= end) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return record(key, { origin, status: 416, range: null, bytes: 0, authorization }, req);
      }
      range = [start, end];
    }
    const fault = takeFault(key, ['drop', 'ignoreRange', 'wrongRange']);
    const answered = fault?.kind === 'ignoreRange' ? null : range;
    const [start, end] = answered ?? [0, size];
    const headers: Record<string, string | number> = {
      'content-length': end - start,
      etag,
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
    };
    if (answered) headers['content-range'] = `bytes ${start + (fault?.kind === 'wrongRange' ? 1 : 0)}-${end - 1}/${size}`;
    res.writeHead(answered ? 206 : 200, headers);
    const body = content.subarray(start, end);
    const sent = fault?.kind === 'drop' ? body.subarray(0, Math.floor(body.length / 2)) : body;
    record(key, { origin, status: answered ? 206 : 200, range, bytes: sent.length, authorization }, req);
    if (fault?.kind === 'drop') res.write(sent, () => res.socket?.destroy());
    else res.end(sent);
  };

  const hubHandler = (req: http.IncomingMessage, res: http.ServerResponse, cdnEndpoint: string): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const tree = parts[0] === 'api' && parts[1] === 'datasets' && parts[4] === 'tree';
    const resolve = parts[0] === 'datasets' && parts[3] === 'resolve';
    const [owner, name, , revision, ...rest] = tree ? parts.slice(2) : parts.slice(1);
    const repo = repos.find((r) => r.repo === `${owner}/${name}`);
    if (req.method !== 'GET' || (!tree && !resolve) || revision === undefined) return sendJson(res, 404, { error: 'Not found' });
    if (tree) treeRequests.push({ url: url.pathname + url.search, authorization: req.headers.authorization ?? null });
    if (!repo) return sendJson(res, 404, { error: 'Repository not found' });
    if (!authorized(repo, req, res)) return;
    const revisionFiles = repo.revisions[revision];
    if (!revisionFiles) return sendJson(res, 404, { error: `Invalid rev id: ${revision}` });
    const filePath = rest.join('/');
    if (tree) {
      const all = revisionFiles.map((spec) => files.get(`${repo.repo}@${revision}:${spec.path}`)!);
      const entries = treeEntries(all, filePath, url.searchParams.get('recursive') === 'true');
      if (entries.length === 0) return sendJson(res, 404, { error: `Entry not found: ${filePath}` });
      const offset = Number(url.searchParams.get('cursor') ?? '0');
      const headers: Record<string, string> = {};
      if (offset + pageSize < entries.length) {
        const next = new URL(url.pathname + url.search, `http://${req.headers.host}`);
        next.searchParams.set('cursor', String(offset + pageSize));
        headers.link = `<${next.href}>; rel="next"`;
      }
      return sendJson(res, 200, entries.slice(offset, offset + pageSize), headers);
    }
    const key = `${repo.repo}@${revision}:${filePath}`;
    const file = files.get(key);
    if (!file) return sendJson(res, 404, { error: 'Entry not found' });
    const authorization = req.headers.authorization ?? null;
    const fault = takeFault(key, ['status']);
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      sendJson(res, fault.status, { error: 'injected fault' }, headers);
      return record(key, { origin: 'hub', status: fault.status, range: null, bytes: 0, authorization }, req);
    }
    if (!file.lfs) return serveBody(key, file.content, `"${file.oid}"`, 'hub', req, res);
    res
      .writeHead(302, {
        location: `${cdnEndpoint}/cdn/${cdnIds.get(`${key}|${file.sha256}`)}`,
        'x-linked-etag': `"${file.sha256}"`,
        'x-linked-size': String(file.content.length),
      })
      .end();
    record(key, { origin: 'hub', status: 302, range: null, bytes: 0, authorization }, req);
  };

  const cdnHandler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const object = cdn[Number(/^\/cdn\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1)];
    if (!object || req.method !== 'GET') return sendJson(res, 404, { error: 'Not found' });
    serveBody(object.key, object.content, cdnEtag(object.content), 'cdn', req, res);
  };

  const cdnServer = http.createServer(cdnHandler);
  let cdnEndpoint = '';
  const hub = http.createServer((req, res) => hubHandler(req, res, cdnEndpoint));
  const listen = (server: http.Server): Promise<string> =>
    new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  cdnEndpoint = await listen(cdnServer);
  const endpoint = await listen(hub);
  hub.unref();
  cdnServer.unref();
  const closeServer = (server: http.Server): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  return {
    endpoint,
    treeRequests,
    replace(repo, path, content, revision = 'main') {
      const key = `${repo}@${revision}:${path}`;
      const old = files.get(key);
      if (!old) throw new Error(`hubServer.replace: no file ${key}`);
      add(key, served(old.repo, path, content));
    },
    inject(repo, path, fault, revision = 'main') {
      const key = `${repo}@${revision}:${path}`;
      if (!files.has(key)) throw new Error(`hubServer.inject: no file ${key}`);
      faults.set(key, [...(faults.get(key) ?? []), { ...fault }]);
    },
    stats: (file) => statsOf(`${file.repo}@${file.revision}:${file.path}`),
    reset() {
      faults = new Map();
      stats = new Map();
      treeRequests.length = 0;
    },
    close: async () => {
      await Promise.all([closeServer(hub), closeServer(cdnServer)]);
    },
  };
}
