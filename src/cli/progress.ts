/**
 * Progress display for long builds: on a TTY (and not under CI) one cli-progress bar on stderr
 * with documents, tokens, rows, rate and ETA; elsewhere nothing at all.
 */
import cliProgress from 'cli-progress';
import type { BuildProgress } from '../run/build.ts';

/** Returns a progress callback and a `stop` to call when the build ends. */
export function createProgress(enabled = Boolean(process.stderr.isTTY) && !process.env.CI): { update: (p: BuildProgress) => void; stop: () => void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{phase} |{bar}| {percentage}% | {documents} docs | {tokens} tok | {rows} rows | {rate} tok/s | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let phase: BuildProgress['phase'] | undefined;
  let total = 0;
  let last = 0;
  let latest: BuildProgress | undefined;
  const payload = (p: BuildProgress) => ({
    phase: p.phase === 'tokenize' ? 'read+tokenize' : 'write shards ',
    documents: p.documents.toLocaleString('en-US'),
    tokens: p.tokens.toLocaleString('en-US'),
    rows: p.rows.toLocaleString('en-US'),
    rate: Math.round(p.tokens / Math.max(0.001, (Date.now() - started) / 1000)).toLocaleString('en-US'),
  });
  const valueOf = (p: BuildProgress) => (p.phase === 'tokenize' ? p.inputBytes : p.rows);
  return {
    update(p) {
      latest = p;
      const now = Date.now();
      if (p.phase === phase && now - last < 200) return;
      last = now;
      if (p.phase !== phase) {
        // The previous phase is complete: show it full, with the counts it ended with.
        if (phase) {
          bar.update(total, { ...payload(p), phase: 'read+tokenize', rows: '0' });
          bar.stop();
        }
        phase = p.phase;
        total = Math.max(1, p.phase === 'tokenize' ? p.totalInputBytes : p.totalRows);
        bar.start(total, valueOf(p), payload(p));
      } else bar.update(valueOf(p), payload(p));
    },
    stop() {
      if (phase && latest) bar.update(valueOf(latest), payload(latest));
      bar.stop();
      phase = undefined;
    },
  };
}
