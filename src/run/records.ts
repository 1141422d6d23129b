/**
 * The records of units of work in a work directory, the only truth about what is done (a
 * scheduler's job states are not: Slurm forgets finished and cancelled jobs).
 *
 * For a unit named `<name>` in stage directory `<dir>`:
 * - `<name>.done.json`: the completion record, written last and atomically, holding the unit's
 *   fingerprint and the size and SHA-256 of each of its outputs. A unit is done exactly when this
 *   record exists, parses, and carries the fingerprint the current run expects.
 * - `<name>.running.json`: written when an attempt starts (host, pid, start time); stale once its
 *   process is gone.
 * - `<name>.failed.json`: written when an attempt fails, with the error's one-line message.
 * - `<name>.*.tmp.<attempt>`: an attempt's temporaries; removed when the unit starts again.
 *
 * Every file is written under a temporary name unique to the attempt and renamed into place, so
 * two attempts of one unit (a requeued task and its zombie) never interleave bytes; their outputs
 * are identical by construction.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, rmSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PipelineError } from '../core/errors.ts';
import { stableStringify } from '../core/stableJson.ts';

/** Size and SHA-256 of one output file of a unit. */
export interface OutputDigest {
  sizeBytes: number;
  sha256: string;
}

/** A unit's completion record. */
export interface CompletionRecord {
  format: 'longmix-unit-done/1';
  stage: string;
  unit: string;
  /** Fingerprint of what the unit was asked to do (run record + unit); see `unitFingerprint`. */
  fingerprint: string;
  /** Output file name (relative to the stage directory) → size and SHA-256. */
  outputs: Record<string, OutputDigest>;
  /** Small stage-specific result (counts, identities) the later stages read. */
  result?: unknown;
}

/** A unit's failure record. */
export interface FailureRecord {
  unit: string;
  host: string;
  pid: number;
  /** When the attempt failed (ISO 8601). */
  at: string;
  /** The error's one-line message. */
  error: string;
}

/** A unit's running record. */
export interface RunningRecord {
  host: string;
  pid: number;
  /** When the attempt started (ISO 8601). */
  startedAt: string;
  /** Slurm job and array task, when run by Slurm. */
  job?: string;
}

let attempts = 0;
/** A name unique to this attempt on this machine: `<host>.<pid>.<n>`. */
export function attemptId(): string {
  return `${os.hostname()}.${process.pid}.${++attempts}`;
}

/**
 * Writes `data` to `target` through `<target>.tmp.<attempt>` (flushed), then renames it.
 * @throws the file system's error; the temporary is removed first.
 */
export async function writeAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${target}.tmp.${attemptId()}`;
  try {
    await writeFile(tmp, data, { flush: true });
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** Size and SHA-256 of a file, streamed. */
export async function digestFile(file: string): Promise<OutputDigest> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
  }
  return { sizeBytes, sha256: hash.digest('hex') };
}

const recordPath = (dir: string, unit: string, kind: 'done' | 'running' | 'failed') => path.join(dir, `${unit}.${kind}.json`);

/** Writes a unit's completion record (last, atomically) and removes its running and failure records. */
export async function writeDone(dir: string, record: CompletionRecord): Promise<void> {
  await writeAtomic(recordPath(dir, record.unit, 'done'), stableStringify(record));
  await rm(recordPath(dir, record.unit, 'running'), { force: true });
  await rm(recordPath(dir, record.unit, 'failed'), { force: true });
}

/**
 * The completion record of `unit` when it exists and carries `fingerprint`, else null (a record
 * of another run, or an unreadable one, counts as not done).
 */
export async function readDone(dir: string, unit: string, fingerprint: string): Promise<CompletionRecord | null> {
  let record: CompletionRecord;
  try {
    record = JSON.parse(await readFile(recordPath(dir, unit, 'done'), 'utf8')) as CompletionRecord;
  } catch {
    return null;
  }
  return record?.format === 'longmix-unit-done/1' && record.fingerprint === fingerprint && record.unit === unit ? record : null;
}

/**
 * Checks that every output a completion record lists exists with its recorded size (SHA-256 is
 * checked by the reader of each output that reads it whole).
 * @throws PipelineError naming the unit and the file that is missing or has another size.
 */
export async function checkOutputs(dir: string, record: CompletionRecord): Promise<void> {
  for (const [name, digest] of Object.entries(record.outputs)) {
    const size = await stat(path.join(dir, name)).then(
      (s) => s.size,
      () => null,
    );
    if (size !== digest.sizeBytes) {
      throw new PipelineError(
        `${path.join(dir, name)}: output of unit ${record.stage}/${record.unit} is ${size === null ? 'missing' : `${size} bytes, its completion record says ${digest.sizeBytes}`}; rerun the build (the unit is redone) or start over with --restart`,
        { unit: record.unit, file: name },
      );
    }
  }
}

/** Marks an attempt of `unit` as running. */
export async function writeRunning(dir: string, unit: string, job?: string): Promise<void> {
  const record: RunningRecord = { host: os.hostname(), pid: process.pid, startedAt: new Date().toISOString(), ...(job ? { job } : {}) };
  await writeAtomic(recordPath(dir, unit, 'running'), JSON.stringify(record));
}

/** Records that an attempt of `unit` failed with `error`. */
export async function writeFailed(dir: string, unit: string, error: unknown): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  const record: FailureRecord = { unit, host: os.hostname(), pid: process.pid, at: new Date().toISOString(), error: message.split('\n').join(' ') };
  await writeAtomic(recordPath(dir, unit, 'failed'), JSON.stringify(record));
  await rm(recordPath(dir, unit, 'running'), { force: true });
}

/** The running and failure records of `unit` (either may be null). */
export async function readAttemptRecords(dir: string, unit: string): Promise<{ running: RunningRecord | null; failed: FailureRecord | null }> {
  const read = async <T>(kind: 'running' | 'failed') =>
    readFile(recordPath(dir, unit, kind), 'utf8').then(
      (text) => JSON.parse(text) as T,
      () => null,
    );
  return { running: await read<RunningRecord>('running'), failed: await read<FailureRecord>('failed') };
}

/** Whether the process of a running record may still run: another host, or a live pid here. */
export function mayBeRunning(record: RunningRecord): boolean {
  if (record.host !== os.hostname()) return true;
  try {
    process.kill(record.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the temporaries of earlier attempts of `unit` (files `<unit>.<…>.tmp.<attempt>`), so a
 * unit that starts again starts clean. Synchronous: a signal handler may call it.
 */
export function removeUnitTemporaries(dir: string, unit: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(`${unit}.`) && name.includes('.tmp.')) rmSync(path.join(dir, name), { recursive: true, force: true });
}
