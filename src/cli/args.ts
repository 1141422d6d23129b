/**
 * Argument parsers for commander options, shared by `pnpm pipeline` and `pnpm bench`; each
 * throws commander's InvalidArgumentError, which commander prints with the option's name.
 */
import os from 'node:os';
import { InvalidArgumentError } from 'commander';

/** A whole number >= 1, written in plain decimal digits. */
export function positiveInt(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return Number(value);
}

/** A finite number > 0. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

/** Worker threads: 1 to 4 per core (each holds a tokenizer, about 60 MB). */
export function workerCount(value: string): number {
  const n = positiveInt(value);
  const max = 4 * Math.max(1, os.availableParallelism());
  if (n > max) throw new InvalidArgumentError(`expected at most ${max} workers (4 per core on this machine), got ${n}`);
  return n;
}

/** Export formats besides the native shards. */
export const EXPORT_FORMATS = ['hf', 'megatron'] as const;

/** A comma list of output formats (`native` is always written and may be named). */
export function formatList(value: string): string[] {
  const formats = value
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  for (const f of formats)
    if (f !== 'native' && !(EXPORT_FORMATS as readonly string[]).includes(f))
      throw new InvalidArgumentError(`expected formats among native, ${EXPORT_FORMATS.join(', ')}, got "${f}"`);
  return [...new Set(formats.filter((f) => f !== 'native'))].sort();
}
