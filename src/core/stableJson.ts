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

/** Characters of a value's JSON text re-indented at once by {@link stableHashStreaming}. */
const REINDENT_CHUNK_CHARS = 1 << 20;

/**
 * {@link stableHash} of the object `{ ...fields, [arrayKey]: [...items] }` without holding the
 * array or its text: each item is made (by the iterable) and serialized in turn. Equal to
 * `stableHash({ ...fields, [arrayKey]: Array.from(items) })` byte for byte (an item `undefined`
 * is not allowed: canonical JSON would write it as `null`).
 * @param arrayKey - must not be a key of `fields`.
 * @param canonicalItems - the items are given as their canonical JSON text already
 *   ({@link stableStringify} without its trailing newline), e.g. written directly by the caller.
 * @throws TypeError on non-finite numbers, or an `undefined` item.
 */
export function stableHashStreaming(fields: Record<string, unknown>, arrayKey: string, items: Iterable<unknown>, canonicalItems = false): string {
  const hash = createHash('sha256');
  const keys = [...Object.keys(fields).filter((k) => fields[k] !== undefined), arrayKey].sort();
  // At depth d, JSON.stringify(…, null, 2) indents by 2·d spaces; JSON text has no raw newline
  // inside a string, so re-indenting a value's lines places it at another depth exactly. Done
  // in pieces cut before a newline (never inside a surrogate pair), so that a large value's text
  // is never copied whole.
  const updateAt = (text: string, depth: number) => {
    const indent = '\n' + '  '.repeat(depth);
    for (let from = 0; from < text.length;) {
      let to = from + REINDENT_CHUNK_CHARS >= text.length ? text.length : text.lastIndexOf('\n', from + REINDENT_CHUNK_CHARS);
      if (to <= from) to = text.indexOf('\n', from + 1) === -1 ? text.length : text.indexOf('\n', from + 1);
      hash.update(text.slice(from, to).replaceAll('\n', indent));
      from = to;
    }
  };
  hash.update('{');
  keys.forEach((key, k) => {
    hash.update(`${k > 0 ? ',' : ''}\n  ${JSON.stringify(key)}: `);
    if (key !== arrayKey) {
      updateAt(JSON.stringify(canonicalize(fields[key]), null, 2), 1);
      return;
    }
    let count = 0;
    for (const item of items) {
      if (item === undefined) throw new TypeError(`Expected no undefined item in ${arrayKey}`);
      hash.update(`${count++ > 0 ? ',' : '['}\n    `);
      updateAt(canonicalItems ? (item as string) : JSON.stringify(canonicalize(item), null, 2), 2);
    }
    hash.update(count > 0 ? '\n  ]' : '[]');
  });
  hash.update('\n}\n');
  return hash.digest('hex');
}
