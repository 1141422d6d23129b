/**
 * Progress display for long builds: on a TTY (and not under CI) one cli-progress bar on stderr
 * with documents, tokens, rows, rate and ETA; elsewhere nothing at all.
 */
import cliProgress from 'cli-progress';
import type { BuildProgress } from '../build/run.ts';

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
  let last = 0;
  return {
    update(p) {
      const now = Date.now();
      if (p.phase === phase && now - last < 200) return;
      last = now;
      const total = p.phase === 'tokenize' ? p.totalInputBytes : p.totalRows;
      const value = p.phase === 'tokenize' ? p.inputBytes : p.rows;
      const payload = {
        phase: p.phase === 'tokenize' ? 'read+tokenize' : 'write shards ',
        documents: p.documents.toLocaleString('en-US'),
        tokens: p.tokens.toLocaleString('en-US'),
        rows: p.rows.toLocaleString('en-US'),
        rate: Math.round(p.tokens / Math.max(0.001, (now - started) / 1000)).toLocaleString('en-US'),
      };
      if (p.phase !== phase) {
        if (phase) bar.stop();
        bar.start(Math.max(1, total), value, payload);
        phase = p.phase;
      } else bar.update(value, payload);
    },
    stop: () => bar.stop(),
  };
}
