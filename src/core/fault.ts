/**
 * Fault injection for tests: named points in the build where `LONGMIX_FAULT` can kill the process
 * (as `kill -9` would), stall it, or make a write fail as a full disk does. Without the variable
 * a point costs one environment lookup.
 *
 * `LONGMIX_FAULT` is a comma list of `<point>=<action>`; a point pattern may use `*` for any run
 * of characters (`census:*:before-done`). Actions: `kill` (SIGKILL this process), `sleep:<ms>`,
 * `enospc` (throw the error a full disk gives, with `code` ENOSPC). Points are named
 * `<stage>:<unit>:<moment>` (`census:u00003:tokens-written`) or `<stage>:<moment>` (`commit:before-manifest`).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** The error a write to a full disk gives (errno ENOSPC), for a named file. */
export function enospcError(file: string): NodeJS.ErrnoException {
  const error = new Error(`ENOSPC: no space left on device, write '${file}'`) as NodeJS.ErrnoException;
  error.code = 'ENOSPC';
  error.errno = -28;
  error.syscall = 'write';
  error.path = file;
  return error;
}

function matches(pattern: string, point: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(point);
}

/**
 * Acts on `point` when `LONGMIX_FAULT` names it (see the file header).
 * @param file - the file being written there, for an injected ENOSPC's message.
 * @throws the ENOSPC error when the action is `enospc`.
 */
export async function faultPoint(point: string, file = point): Promise<void> {
  const spec = process.env.LONGMIX_FAULT;
  if (!spec) return;
  for (const entry of spec.split(',')) {
    const at = entry.lastIndexOf('=');
    if (at < 0 || !matches(entry.slice(0, at), point)) continue;
    const action = entry.slice(at + 1);
    if (action === 'kill') {
      process.kill(process.pid, 'SIGKILL');
      await sleep(10_000); // never reached: the signal ends the process
    } else if (action.startsWith('sleep:')) await sleep(Number(action.slice(6)));
    else if (action === 'enospc') throw enospcError(file);
  }
}
