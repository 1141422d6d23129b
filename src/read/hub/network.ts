/**
 * Which network failures are worth retrying. A retry helps with a dropped connection, a timeout or
 * a server restarting; it cannot help with a host name that does not resolve, nothing listening
 * on this machine, a certificate that does not verify, or a request fetch refuses to build. The
 * rule, applied by `withRetries` (src/read/hub/http.ts):
 *
 * | failure (Node/undici code) | retries |
 * |---|---|
 * | DNS: `ENOTFOUND`, `EAI_AGAIN`, `EAI_NONAME`, `EAI_FAIL` | at most 1 |
 * | `ECONNREFUSED` from a loopback address (localhost, 127.0.0.0/8, ::1) | 0 |
 * | TLS certificate errors (`CERT_*`, `*SELF_SIGNED*`, `UNABLE_TO_*`, `ERR_TLS_*`), a port fetch blocks | 0 |
 * | a request fetch cannot build (a URL with credentials, a bad URL) | not a network error: fails at once |
 * | anything else (`ECONNRESET`, `ETIMEDOUT`, `ECONNREFUSED` elsewhere, socket errors) | up to `maxRetries` |
 */

/** How a fetch failure is retried: `retries` at most (`Infinity` = up to `maxRetries`) and why. */
export interface NetworkFailure {
  /** `network error: fetch failed (<code>)`. */
  message: string;
  retries: number;
  /** Why it is retried less, for the final message; '' when retried fully. */
  rule: string;
  /** False when fetch refused to build the request (no network was used). */
  network: boolean;
}

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);

/** True for localhost and loopback addresses. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Classifies the error `fetch(url)` threw (see the table in the header). */
export function classifyFetchError(error: unknown, url: string): NetworkFailure {
  const e = error as {
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string; address?: string; errors?: { code?: string; address?: string }[] };
  };
  if (e.message !== 'fetch failed') {
    return { message: `the request cannot be made: ${e.message ?? String(error)}`, retries: 0, rule: '', network: false };
  }
  const cause = e.cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  const message = `network error: fetch failed${(code ?? cause?.message) ? ` (${code ?? cause?.message})` : ''}`;
  if (code && DNS.has(code))
    return { message, retries: 1, rule: 'a host name that does not resolve is retried once; check the host (HF_ENDPOINT) and the DNS', network: true };
  const address = cause?.address ?? cause?.errors?.[0]?.address ?? new URL(url).hostname;
  if (code === 'ECONNREFUSED' && isLoopback(address)) {
    return { message, retries: 0, rule: 'nothing listens on this machine at that port; not retried', network: true };
  }
  if ((code && /CERT|SELF_SIGNED|UNABLE_TO_|^ERR_TLS/.test(code)) || cause?.message === 'bad port') {
    return { message, retries: 0, rule: 'a certificate or port that is refused stays refused; not retried', network: true };
  }
  return { message, retries: Infinity, rule: '', network: true };
}

/** `url` with any `user:password@` part replaced by `***@`, for messages. */
export function redactCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1***@');
}
