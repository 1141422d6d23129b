/**
 * `hf://` URLs of files in a Hugging Face dataset repository:
 * `hf://datasets/<owner>/<name>[@<revision>]/<glob>` (the form of huggingface_hub's HfFileSystem).
 * Only dataset repositories are supported; models and spaces are rejected.
 */
import { ConfigError } from '../../core/errors.ts';

/** Where the files of a source lie on the hub. */
export interface HubLocation {
  /** Repository id `"<owner>/<name>"` (without the `datasets/` prefix). */
  repo: string;
  /** Branch, tag, commit or ref such as `refs/convert/parquet`; `"main"` when the URL has none. */
  revision: string;
  /** Glob (picomatch semantics) over paths inside the repository, relative to its root. */
  glob: string;
}

const PREFIX = 'hf://';
const EXPECTED = '"hf://datasets/<owner>/<name>[@<revision>]/<glob>"';
/** Owner and repository names: letters, digits, `_`, `-`, `.` (the hub's repo id alphabet). */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/**
 * `<owner>/<name>[@<revision>]/<glob>`. A revision is one path segment (percent-encode its
 * slashes: `@refs%2Fconvert%2Fparquet`), except the hub's special refs `refs/convert/<name>` and
 * `refs/pr/<number>`, which may be written with plain slashes (as HfFileSystem allows).
 */
const BODY = /^([^/@]+)\/([^/@]+)(?:@(refs\/convert\/[^/]+|refs\/pr\/\d+|[^/]*))?\/(.*)$/;

/** True when `s` starts with `hf://` (case-sensitive); says nothing about the rest. */
export function isHubUrl(s: string): boolean {
  return s.startsWith(PREFIX);
}

function fail(url: string, reason: string): never {
  throw new ConfigError(`Expected a Hugging Face dataset URL of the form ${EXPECTED}, got "${url}": ${reason}`, { url });
}

/**
 * Parses `hf://datasets/<owner>/<name>[@<revision>]/<glob>`. The revision is percent-decoded.
 * @throws ConfigError naming `url` and the expected form when it is not an `hf://` URL, names a
 *   model or space, lacks the owner, name or glob, has an empty or badly encoded revision, or
 *   has an empty, absolute, `.` or `..` segment in its glob.
 */
export function parseHubUrl(url: string): HubLocation {
  if (!isHubUrl(url)) fail(url, 'it does not start with "hf://"');
  const rest = url.slice(PREFIX.length);
  const kind = rest.split('/', 1)[0];
  if (kind === 'models' || kind === 'spaces') fail(url, `${kind} are not supported, only datasets`);
  if (kind !== 'datasets') fail(url, `expected "datasets/" after "hf://", got "${kind}/" (models and spaces are not supported)`);
  const match = BODY.exec(rest.slice('datasets/'.length));
  if (!match) fail(url, 'expected an owner, a repository name and a path glob after "datasets/"');
  const [, owner, name, rawRevision, glob] = match;
  for (const part of [owner, name]) {
    if (!NAME.test(part)) fail(url, `"${part}" is not a valid owner or repository name (letters, digits, "_", "-", ".")`);
  }
  let revision = 'main';
  if (rawRevision !== undefined) {
    try {
      revision = decodeURIComponent(rawRevision);
    } catch {
      fail(url, `the revision "${rawRevision}" is not validly percent-encoded`);
    }
    if (revision === '') fail(url, 'the revision after "@" is empty');
  }
  if (glob === '') fail(url, 'the path glob is empty (use "**" for every file)');
  if (glob.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    fail(url, `the path glob "${glob}" has an empty, "." or ".." segment`);
  }
  return { repo: `${owner}/${name}`, revision, glob };
}

/**
 * Formats `loc` as an `hf://` URL that {@link parseHubUrl} reads back to an equal location
 * (`@<revision>` omitted for `main`, slashes in the revision percent-encoded).
 */
export function formatHubUrl(loc: HubLocation): string {
  const revision = loc.revision === 'main' ? '' : `@${encodeURIComponent(loc.revision)}`;
  return `${PREFIX}datasets/${loc.repo}${revision}/${loc.glob}`;
}
