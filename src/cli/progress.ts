/**
 * Progress display for long builds: on a TTY (and not under CI) one cli-progress bar per stage on
 * stderr, each with its own counters: read+tokenize (input bytes, units, documents, tokens,
 * tokens/s), plan, write (rows and shards), commit. A bar starts at its stage's first report, so
 * its rate and ETA leave out start-up. Elsewhere nothing at all.
 */
import cliProgress from 'cli-progress';
import type { BuildProgress } from '../run/build.ts';

const n = (x: number) => x.toLocaleString('en-US');

const FORMATS: Record<string, string> = {
  group: 'group repos   |{bar}| {percentage}% | {unitsDone}/{units} files | ETA {eta_formatted}',
  census: 'read+tokenize |{bar}| {percentage}% | {unitsDone}/{units} files | {documents} docs | {tokens} tok | {rate} tok/s | ETA {eta_formatted}',
  plan: 'plan          |{bar}| selecting, packing, scheduling',
  write: 'write shards  |{bar}| {percentage}% | {value}/{total} rows | {unitsDone}/{units} shards | ETA {eta_formatted}',
  commit: 'commit        |{bar}| publishing',
};

/** Returns a progress callback, and `stop` to call when the build ends (also before printing anything else). */
export function createProgress(enabled = Boolean(process.stderr.isTTY) && !process.env.CI): { update: (p: BuildProgress) => void; stop: () => void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | null = null;
  let stage = '';
  let started = 0;
  let last = 0;
  const valueOf = (p: BuildProgress) => (p.stage === 'census' || p.stage === 'group' ? p.inputBytes : p.stage === 'write' ? p.rows : 0);
  const totalOf = (p: BuildProgress) => Math.max(1, p.stage === 'census' || p.stage === 'group' ? p.totalInputBytes : p.stage === 'write' ? p.totalRows : 1);
  const payload = (p: BuildProgress) => ({
    unitsDone: n(p.unitsDone),
    units: n(p.units),
    documents: n(p.documents),
    tokens: n(p.tokens),
    rate: n(Math.round(p.tokens / Math.max(0.001, (Date.now() - started) / 1000))),
  });
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    update(p) {
      const now = Date.now();
      if (p.stage !== stage) {
        if (bar) {
          bar.update(bar.getTotal());
          stop();
        }
        stage = p.stage;
        started = now;
        bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: FORMATS[p.stage] ?? p.stage, hideCursor: true, etaBuffer: 50, fps: 5 },
          cliProgress.Presets.shades_classic,
        );
        bar.start(totalOf(p), valueOf(p), payload(p));
        last = now;
        return;
      }
      if (now - last < 200) return;
      last = now;
      bar?.setTotal(totalOf(p));
      bar?.update(valueOf(p), payload(p));
    },
    stop,
  };
}
