/**
 * Argument parsers for commander options, shared by `pnpm pipeline` and `pnpm bench`; each
 * throws commander's InvalidArgumentError, which commander prints with the option's name.
 */
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
