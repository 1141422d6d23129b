/**
 * The progress display (src/cli/progress.ts) on a fake TTY: each stage's bar ends on its stage's
 * last counters (a report the 200 ms throttle skipped included), the ETA is `--` until the stage
 * has measured its own rate, and remaining times read as seconds, minutes or hours.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, formatSeconds } from '../../src/cli/progress.ts';
import type { BuildProgress } from '../../src/run/build.ts';

/** A writable that says it is a TTY and keeps what the bars wrote, escape codes removed. */
function fakeTty(): { stream: Writable; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out += chunk.toString();
      callback();
    },
  });
  Object.assign(stream, { isTTY: true, columns: 200 });
  return { stream, text: () => out.replace(/\u001b\[[0-9;?]*[A-Za-z]|\u001b[78]/g, '\n') };
}

const base: BuildProgress = { stage: 'census', unitsDone: 0, units: 2, documents: 0, tokens: 0, inputBytes: 0, rows: 0, totalInputBytes: 1000, totalRows: 0 };

describe('progress bars', () => {
  it('end each stage on its last counters, even when the throttle skipped them', () => {
    const tty = fakeTty();
    const progress = createProgress(true, tty.stream);
    progress.update({ ...base, inputBytes: 100, documents: 3, tokens: 30 });
    // Within 200 ms of the first report: not drawn, but it is the stage's last word.
    progress.update({ ...base, unitsDone: 2, inputBytes: 1000, documents: 7, tokens: 70 });
    progress.update({ ...base, stage: 'write', unitsDone: 0, units: 1, totalRows: 4, rows: 1 });
    progress.update({ ...base, stage: 'write', unitsDone: 1, units: 1, totalRows: 4, rows: 4 });
    progress.stop();
    const lines = tty
      .text()
      .split('\n')
      .filter((l) => l.trim());
    expect(lines.filter((l) => l.startsWith('read+tokenize')).at(-1)).toMatch(/\| 100% \| 2\/2 files \| 7 docs \| 70 tok \| .* tok\/s \| ETA 0s$/);
    expect(lines.filter((l) => l.startsWith('read+tokenize'))[0]).toMatch(/\| 10% \| 0\/2 files \| 3 docs \| 30 tok \| .* \| ETA --$/);
    expect(lines.filter((l) => l.startsWith('write shards'))[0]).toMatch(/\| 25% \| 1\/4 rows \| 0\/1 shards \| ETA --$/);
  });

  it('shows the plan selecting and packing', () => {
    const tty = fakeTty();
    const progress = createProgress(true, tty.stream);
    progress.update({ ...base, stage: 'plan', unitsDone: 0, units: 1, documents: 4096 });
    progress.update({ ...base, stage: 'plan', unitsDone: 0, units: 1, documents: 20035, rows: 7104 });
    progress.update({ ...base, stage: 'write', unitsDone: 0, units: 1, totalRows: 4, rows: 1 });
    progress.stop();
    const plan = tty
      .text()
      .split('\n')
      .filter((l) => l.startsWith('plan'));
    expect(plan[0]).toMatch(/\| 4,096 docs selected \| 0 rows packed$/);
    expect(plan.at(-1)).toMatch(/\| 20,035 docs selected \| 7,104 rows packed$/);
  });

  it('writes nothing when disabled (no TTY, or CI)', () => {
    const tty = fakeTty();
    const progress = createProgress(false, tty.stream);
    progress.update(base);
    progress.stop();
    expect(tty.text()).toBe('');
  });

  it('formats remaining times', () => {
    expect([0, 42.4, 59.6, 60, 425, 3599, 3600, 11_220].map(formatSeconds)).toEqual(['0s', '42s', '1m00s', '1m00s', '7m05s', '59m59s', '1h00m', '3h07m']);
  });
});
