/**
 * Options of the Hugging Face hub access layer, resolved from the environment.
 */
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../core/errors.ts';
import { redactCredentials } from './network.ts';

/**
 * How to reach the hub. Holds the access token: never log or serialize this object whole.
 */
export interface HubOptions {
  /** Hub base URL without a trailing slash. Default `process.env.HF_ENDPOINT ?? "https://huggingface.co"`. */
  endpoint: string;
  /**
   * Access token (`hf_…`), sent only as `Authorization: Bearer <token>` to `endpoint` (fetch drops
   * it on a redirect to another origin). Default `process.env.HF_TOKEN`; an empty string means none.
   */
  token?: string;
  /** Download cache root. Default `process.env.LONGMIX_CACHE ?? ~/.cache/longmix/hub`. */
  cacheDir: string;
  /** Retries after the first attempt of one request, integer ≥ 0. Default 5. */
  maxRetries: number;
  /** Base of the exponential backoff, milliseconds ≥ 0: retry k waits `retryBaseMs * 2^k` plus jitter. Default 500. */
  retryBaseMs: number;
}

/**
 * Resolves the options from the environment (read at call time) and `overrides`. An override
 * that is `undefined` keeps the default, except `token`: `{ token: undefined }` means no token,
 * whatever `HF_TOKEN` says.
 * @throws ConfigError when `endpoint` is not an http(s) URL or carries credentials, `maxRetries` is not an integer ≥ 0,
 *   or `retryBaseMs` is not a finite number ≥ 0.
 */
export function hubOptionsFromEnv(overrides: Partial<HubOptions> = {}): HubOptions {
  const env = process.env;
  const endpoint = (overrides.endpoint ?? env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const token = 'token' in overrides ? overrides.token : env.HF_TOKEN;
  const options: HubOptions = {
    endpoint,
    cacheDir: overrides.cacheDir ?? env.LONGMIX_CACHE ?? path.join(os.homedir(), '.cache', 'longmix', 'hub'),
    maxRetries: overrides.maxRetries ?? 5,
    retryBaseMs: overrides.retryBaseMs ?? 500,
  };
  if (token) options.token = token;
  let protocol = '';
  try {
    protocol = new URL(endpoint).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ConfigError(`Expected the hub endpoint (HF_ENDPOINT) to be an http(s) URL, got "${redactCredentials(endpoint)}"`, {
      endpoint: redactCredentials(endpoint),
    });
  }
  const { username, password } = new URL(endpoint);
  if (username || password) {
    throw new ConfigError(
      `Expected the hub endpoint (HF_ENDPOINT) without credentials, got ${redactCredentials(endpoint)}; set HF_TOKEN instead (sent as a bearer token to the hub only)`,
      { endpoint: redactCredentials(endpoint) },
    );
  }
  if (!Number.isSafeInteger(options.maxRetries) || options.maxRetries < 0) {
    throw new ConfigError(`Expected hub maxRetries to be an integer ≥ 0, got ${options.maxRetries}`, { maxRetries: options.maxRetries });
  }
  if (!Number.isFinite(options.retryBaseMs) || options.retryBaseMs < 0) {
    throw new ConfigError(`Expected hub retryBaseMs to be a number of milliseconds ≥ 0, got ${options.retryBaseMs}`, { retryBaseMs: options.retryBaseMs });
  }
  return options;
}

/**
 * The environment variables of hub and URL inputs, for `--help` (`build-mix`, `plan`) and the
 * README's "Environment" section; the defaults are those of {@link hubOptionsFromEnv}.
 */
export const ENVIRONMENT_HELP = `
Environment:
  HF_ENDPOINT    Hugging Face hub for hf:// sources (default https://huggingface.co); a mirror's URL, without credentials
  HF_TOKEN       hub access token (hf_...) for gated datasets such as bigcode/starcoderdata; sent only to HF_ENDPOINT,
                 as "Authorization: Bearer", never to other hosts, never printed
  LONGMIX_CACHE  download cache for hf:// and https:// inputs (default ~/.cache/longmix/hub): files in
                 <cache>/<owner>/<name>/<revision>/<path>, hub listings in <cache>/.listings; when the hub
                 cannot be reached, cached listings and files are used (said once on stderr)

Network failures are retried up to 5 times with exponential backoff, except those that cannot be transient:
a host name that does not resolve is retried once; connection refused on localhost and certificate errors are
not retried. URLs with credentials (user:password@) are refused.
Relative paths on the command line are resolved from the directory the command was run in (INIT_CWD under pnpm).`;
