/**
 * Progress display for long builds: on a TTY (and not under CI) one cli-progress bar per stage on
 * stderr, each with its own counters: read+tokenize (input bytes, units, documents, tokens,
 * tokens/s), plan (documents selected, rows packed), write (rows and shards), commit. A bar
 * starts at its stage's first report, so its rate and ETA leave out start-up; the read+tokenize
 * total is what early stop is projected to read (src/run/earlyStop.ts), and the ETA covers the
 * stage. Elsewhere nothing at all.
 */
import cliProgress from 'cli-progress';
import type { BuildProgress } from '../run/build.ts';

const n = (x: number) => x.toLocaleString('en-US');

const FORMATS: Record<string, string> = {
  group: 'group repos   |{bar}| {percentage}% | {unitsDone}/{units} files | ETA {remaining}',
  census: 'read+tokenize |{bar}| {percentage}% | {unitsDone}/{units} files | {documents} docs | {tokens} tok | {rate} tok/s | ETA {remaining}',
  plan: 'plan          |{bar}| {documents} docs selected | {rows} rows packed',
  write: 'write shards  |{bar}| {percentage}% | {value}/{total} rows | {unitsDone}/{units} shards | ETA {remaining}',
  commit: 'commit        |{bar}| publishing',
};

/** `seconds` as `42s`, `7m05s` or `3h07m`. */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Returns a progress callback writing to `stream` (a TTY's; default stderr), and `stop` to call when the build ends (also before printing anything else). */
export function createProgress(
  enabled = Boolean(process.stderr.isTTY) && !process.env.CI,
  stream: NodeJS.WritableStream = process.stderr,
): { update: (p: BuildProgress) => void; stop: () => void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | null = null;
  let stage = '';
  let started = 0;
  let last = 0;
  let latest: BuildProgress | null = null;
  // Bytes read, rows written; the plan and the commit (one unit each) fill when their unit is done.
  const valueOf = (p: BuildProgress) => (p.stage === 'census' || p.stage === 'group' ? p.inputBytes : p.stage === 'write' ? p.rows : p.unitsDone);
  const totalOf = (p: BuildProgress) =>
    Math.max(1, p.stage === 'census' || p.stage === 'group' ? p.totalInputBytes : p.stage === 'write' ? p.totalRows : p.units);
  let startValue = 0;
  // Remaining time at the stage's mean rate since its first report (so start-up is left out); "--"
  // until a second has passed with progress.
  const eta = (p: BuildProgress) => {
    const seconds = (Date.now() - started) / 1000;
    const done = valueOf(p) - startValue;
    if (seconds < 1 || done <= 0) return '--';
    return formatSeconds(Math.max(0, totalOf(p) - valueOf(p)) / (done / seconds));
  };
  const payload = (p: BuildProgress) => ({
    remaining: eta(p),
    unitsDone: n(p.unitsDone),
    units: n(p.units),
    documents: n(p.documents),
    tokens: n(p.tokens),
    rows: n(p.rows),
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
        // The stage's last counters (a report skipped by the 200 ms throttle included), then 100%.
        if (bar && latest) {
          bar.update(bar.getTotal(), { ...payload(latest), remaining: '0s' });
          stop();
        }
        stage = p.stage;
        started = now;
        bar = new cliProgress.SingleBar(
          { stream, format: FORMATS[p.stage] ?? p.stage, hideCursor: true, etaBuffer: 50, fps: 5 },
          cliProgress.Presets.shades_classic,
        );
        startValue = valueOf(p);
        bar.start(totalOf(p), valueOf(p), payload(p));
        latest = p;
        last = now;
        return;
      }
      latest = p;
      if (now - last < 200) return;
      last = now;
      bar?.setTotal(totalOf(p));
      bar?.update(valueOf(p), payload(p));
    },
    stop,
  };
}
