/**
 * One writer per output directory: a lock file `<out>/.longmix.lock`, created exclusively
 * (`O_CREAT | O_EXCL`), holding `{ pid, hostname, startedAt, token }` as JSON.
 *
 * A build takes it before it touches anything in the directory (even the temporaries a killed
 * build left), and drops it after its manifest is written or it has failed. A second build into
 * the same directory fails at once, naming the holder, instead of deleting the first one's
 * temporaries or mixing its shards with the first one's manifest. `verify`, `inspect`, `export`
 * and the Python loader refuse a directory whose lock is live.
 *
 * A lock is **stale** when its process is gone (same host, `kill(pid, 0)` fails with ESRCH), or
 * when the file is not a lock (empty, not JSON, wrong shape) and older than
 * {@link UNREADABLE_GRACE_MS} (a lock is written right after it is created, so only a process
 * killed in between leaves an empty one). A lock from another host cannot be checked and is
 * never stale. Taking over a stale lock goes through a second exclusive file,
 * `.longmix.lock.takeover`: its holder re-reads the lock, removes it only if it is still the same
 * stale lock, and creates its own; so of several processes that found the same stale lock at
 * once, exactly one takes it.
 */
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PipelineError } from '../core/errors.ts';

/** File name of the lock inside the output directory. */
export const LOCK_FILE = '.longmix.lock';
const TAKEOVER_FILE = `${LOCK_FILE}.takeover`;

/** An unreadable lock younger than this (milliseconds) may be one being written: it is live. */
export const UNREADABLE_GRACE_MS = 10_000;

/** What a lock file holds. */
interface LockContent {
  pid: number;
  hostname: string;
  /** ISO 8601 time the lock was taken. */
  startedAt: string;
  /** Tells locks apart (pid + counter), so release and takeover never remove another's lock. */
  token: string;
}

/** A held lock on one output directory. */
export interface OutDirLock {
  /** The locked directory, as given. */
  outDir: string;
  /** Removes the lock file if it is still this lock's. Synchronous: safe in a signal handler. */
  release(): void;
}

/** The state of a lock file. */
type LockState = { kind: 'none' } | { kind: 'live'; holder: LockContent | null; file: string } | { kind: 'stale'; holder: LockContent | null; raw: string };

let taken = 0;

function isLock(value: unknown): value is LockContent {
  const v = value as Partial<LockContent> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    Number.isSafeInteger(v.pid) &&
    (v.pid as number) > 0 &&
    typeof v.hostname === 'string' &&
    typeof v.token === 'string' &&
    typeof v.startedAt === 'string'
  );
}

/** Whether the process of a well-formed lock may still run: another host, or a live (or unknowable) pid here. */
function holderMayBeAlive(lock: LockContent): boolean {
  if (lock.hostname !== os.hostname()) return true;
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function stateOf(file: string): LockState {
  let raw: string;
  let mtimeMs: number;
  try {
    raw = readFileSync(file, 'utf8');
    mtimeMs = statSync(file).mtimeMs;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'none' };
    // A lock path we cannot read (a directory, no permission) is never taken over.
    return { kind: 'live', holder: null, file };
  }
  let holder: LockContent | null = null;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (isLock(parsed)) holder = parsed;
  } catch {
    holder = null;
  }
  if (holder) return holderMayBeAlive(holder) ? { kind: 'live', holder, file } : { kind: 'stale', holder, raw };
  return Date.now() - mtimeMs < UNREADABLE_GRACE_MS ? { kind: 'live', holder: null, file } : { kind: 'stale', holder: null, raw };
}

function describe(state: { holder: LockContent | null; file: string }): string {
  return state.holder
    ? `pid ${state.holder.pid} on ${state.holder.hostname}, since ${state.holder.startedAt}`
    : `lock file ${state.file}, not readable as a lock`;
}

function inUse(outDir: string, state: { holder: LockContent | null; file: string }): PipelineError {
  return new PipelineError(
    `Output directory ${outDir} is in use by another longmix build (${describe(state)}); wait for it to finish or choose another --out. If no build is running there, remove ${state.file}.`,
    { outDir, holder: state.holder },
  );
}

/** Creates `file` exclusively with `text`; false when it exists. */
function createExclusive(file: string, text: string, outDir: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new PipelineError(`Cannot lock output directory ${outDir}: ${(error as Error).message}`, { outDir }, { cause: error });
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes the lock of `outDir` (which must exist), taking over a stale one.
 * @throws PipelineError naming the directory and the holder when another live build holds it,
 *   another process is taking over the same stale lock, or the lock cannot be created.
 */
export function lockOutDir(outDir: string): OutDirLock {
  const file = path.join(outDir, LOCK_FILE);
  const content: LockContent = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    token: `${process.pid}.${++taken}.${Date.now()}`,
  };
  const text = JSON.stringify(content);
  const held: OutDirLock = {
    outDir,
    release() {
      const state = stateOf(file);
      if (state.kind !== 'none' && state.holder?.token === content.token) rmSync(file, { force: true });
    },
  };
  if (createExclusive(file, text, outDir)) return held;
  const seen = stateOf(file);
  if (seen.kind === 'none' && createExclusive(file, text, outDir)) return held;
  if (seen.kind !== 'stale') throw inUse(outDir, seen.kind === 'live' ? seen : { holder: null, file });
  // Stale: take it over under the takeover file, so that only one process replaces it.
  const takeover = path.join(outDir, TAKEOVER_FILE);
  if (!createExclusive(takeover, text, outDir)) {
    throw new PipelineError(
      `Output directory ${outDir}: another longmix build is taking over its stale lock right now; try again. If no build is running there, remove ${takeover} and ${file}.`,
      { outDir },
    );
  }
  try {
    const now = stateOf(file);
    if (now.kind === 'stale' && now.raw === seen.raw) rmSync(file, { force: true });
    if (createExclusive(file, text, outDir)) return held;
    const state = stateOf(file);
    throw inUse(outDir, state.kind === 'live' ? state : { holder: state.kind === 'stale' ? state.holder : null, file });
  } finally {
    rmSync(takeover, { force: true });
  }
}

/**
 * Refuses to read a directory another process's build is writing (this process's own lock, held
 * while `build-mix` exports what it just built, is fine).
 * @throws PipelineError when `dir` holds a live lock of another process.
 */
export function assertNotLocked(dir: string): void {
  const state = stateOf(path.join(dir, LOCK_FILE));
  if (state.kind !== 'live') return;
  if (state.holder && state.holder.pid === process.pid && state.holder.hostname === os.hostname()) return;
  throw new PipelineError(
    `${dir} is being written by a longmix build (${describe(state)}); run this again when it has finished. If no build is running there, remove ${state.file}.`,
    { dir, holder: state.holder },
  );
}
