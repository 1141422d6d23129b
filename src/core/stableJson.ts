/**
 * Canonical JSON: object keys sorted by code unit, arrays in order, two-space indent, trailing
 * newline. Same value ⇒ same bytes, so manifests and recipe hashes are reproducible.
 */
import { createHash } from 'node:crypto';

function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonicalize(v);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`Expected a finite number in canonical JSON, got ${value}`);
  }
  return value;
}

/**
 * Serializes `value` canonically (sorted keys, `undefined` members omitted).
 * @returns UTF-8 text ending in `\n`.
 * @throws TypeError on non-finite numbers.
 */
export function stableStringify(value: unknown): string {
  return JSON.stringify(canonicalize(value), null, 2) + '\n';
}

/** SHA-256 (hex, 64 chars) of the canonical JSON of `value`. */
export function stableHash(value: unknown): string {
  return sha256Hex(stableStringify(value));
}

/** SHA-256 (hex) of a string (as UTF-8) or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
