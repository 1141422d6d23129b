/**
 * One writer per output directory: a lock file `<out>/.longmix.lock`, created exclusively
 * (`O_CREAT | O_EXCL`), holding `{ pid, hostname, startedAt, token }` as JSON.
 *
 * A build takes it before it touches anything in the directory (even the temporaries a killed
 * build left), and drops it after its manifest is written or it has failed. A second build into
 * the same directory fails at once, naming the holder, instead of deleting the first one's
 * temporaries or mixing its shards with the first one's manifest. A lock whose process is gone
 * (same host, `kill(pid, 0)` says no such process) is stale: it is taken over. A lock from another
 * host cannot be checked and is never taken over. `verify` and `export` refuse a locked directory.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PipelineError } from '../core/errors.ts';

/** File name of the lock inside the output directory. */
export const LOCK_FILE = '.longmix.lock';

/** What a lock file holds. */
interface LockContent {
  pid: number;
  hostname: string;
  /** ISO 8601 time the lock was taken. */
  startedAt: string;
  /** Tells this process's locks apart (pid + counter), so release never removes another's lock. */
  token: string;
}

/** A held lock on one output directory. */
export interface OutDirLock {
  /** The locked directory, as given. */
  outDir: string;
  /** Removes the lock file if it is still this lock's. Synchronous: safe in a signal handler. */
  release(): void;
}

let taken = 0;

function readLock(file: string): LockContent | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockContent;
  } catch {
    return null;
  }
}

/** Whether the lock's process may still run: another host, or a live (or unknowable) pid here. */
function holderMayBeAlive(lock: LockContent): boolean {
  if (lock.hostname !== os.hostname()) return true;
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function describe(lock: LockContent | null, file: string): string {
  return lock ? `pid ${lock.pid} on ${lock.hostname}, since ${lock.startedAt}` : `lock file ${file}`;
}

/**
 * Takes the lock of `outDir` (which must exist).
 * @throws PipelineError naming the directory and the holder when another live build holds it.
 */
export function lockOutDir(outDir: string): OutDirLock {
  const file = path.join(outDir, LOCK_FILE);
  const content: LockContent = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString(), token: `${process.pid}.${++taken}` };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new PipelineError(`Cannot lock output directory ${outDir}: ${(error as Error).message}`, { outDir }, { cause: error });
      const holder = readLock(file);
      // A lock file being written (no content yet) or a live holder: refuse. A dead holder's lock is stale.
      if (attempt > 0 || holder === null || holderMayBeAlive(holder)) {
        throw new PipelineError(
          `Output directory ${outDir} is in use by another longmix build (${describe(holder, file)}); wait for it to finish or choose another --out. If no build is running there, remove ${file}.`,
          { outDir, holder },
        );
      }
      rmSync(file, { force: true });
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(content));
    } finally {
      closeSync(fd);
    }
    return {
      outDir,
      release() {
        if (readLock(file)?.token === content.token) rmSync(file, { force: true });
      },
    };
  }
}

/**
 * Refuses to read a directory another process's build is writing (this process's own lock, held
 * while `build-mix` exports what it just built, is fine).
 * @throws PipelineError when `dir` holds the lock of a live build of another process.
 */
export function assertNotLocked(dir: string): void {
  const file = path.join(dir, LOCK_FILE);
  const holder = readLock(file);
  const ours = holder !== null && holder.pid === process.pid && holder.hostname === os.hostname();
  if (holder && !ours && holderMayBeAlive(holder)) {
    throw new PipelineError(`${dir} is being written by a longmix build (${describe(holder, file)}); run this again when it has finished. If no build is running there, remove ${file}.`, { dir, holder });
  }
}
