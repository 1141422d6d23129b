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

/**
 * Writes the canonical JSON of `value` placed at depth `depth` (the text
 * `JSON.stringify(canonicalize(value), null, 2)` re-indented by `2 · depth` spaces) to `out`, in
 * pieces, without copying the value or making its whole text.
 * @throws TypeError on non-finite numbers (and, as JSON.stringify, on a bigint).
 */
function writeCanonical(value: unknown, depth: number, out: (text: string) => void): void {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`Expected a finite number in canonical JSON, got ${value}`);
    // undefined, a function or a symbol only reach here as array elements: JSON writes null.
    out(JSON.stringify(value) ?? 'null');
    return;
  }
  const indent = '\n' + '  '.repeat(depth + 1);
  if (Array.isArray(value)) {
    if (value.length === 0) return out('[]');
    value.forEach((v, i) => {
      out(i === 0 ? '[' + indent : ',' + indent);
      writeCanonical(v, depth + 1, out);
    });
    return out('\n' + '  '.repeat(depth) + ']');
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined && typeof record[k] !== 'function' && typeof record[k] !== 'symbol')
    .sort();
  if (keys.length === 0) return out('{}');
  keys.forEach((key, i) => {
    out(`${i === 0 ? '{' : ','}${indent}${JSON.stringify(key)}: `);
    writeCanonical(record[key], depth + 1, out);
  });
  out('\n' + '  '.repeat(depth) + '}');
}

/** Characters of a value's JSON text re-indented at once by {@link stableHashStreaming}. */
const REINDENT_CHUNK_CHARS = 1 << 20;

/**
 * {@link stableHash} of the object `{ ...fields, [arrayKey]: [...items] }` without holding the
 * array or its text: each item is made (by the iterable) and serialized in turn. Equal to
 * `stableHash({ ...fields, [arrayKey]: Array.from(items) })` byte for byte (an item `undefined`
 * is not allowed: canonical JSON would write it as `null`).
 * @param arrayKey - must not be a key of `fields`.
 * @param canonicalItems - each item is given as its canonical JSON text already
 *   ({@link stableStringify} without its trailing newline), written directly by the caller, as
 *   an iterable of strings whose concatenation is that text (each string whole: never half of a
 *   surrogate pair).
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
  // Small pieces are gathered and hashed 64 KiB at a time.
  let pending: string[] = [];
  let pendingChars = 0;
  const flush = () => {
    hash.update(pending.join(''));
    pending = [];
    pendingChars = 0;
  };
  const out = (text: string) => {
    pending.push(text);
    pendingChars += text.length;
    if (pendingChars >= 1 << 16) flush();
  };
  out('{');
  keys.forEach((key, k) => {
    out(`${k > 0 ? ',' : ''}\n  ${JSON.stringify(key)}: `);
    if (key !== arrayKey) return writeCanonical(fields[key], 1, out);
    let count = 0;
    for (const item of items) {
      if (item === undefined) throw new TypeError(`Expected no undefined item in ${arrayKey}`);
      out(`${count++ > 0 ? ',' : '['}\n    `);
      if (!canonicalItems) writeCanonical(item, 2, out);
      else {
        flush();
        for (const text of item as Iterable<string>) updateAt(text, 2);
      }
    }
    out(count > 0 ? '\n  ]' : '[]');
  });
  flush();
  hash.update('\n}\n');
  return hash.digest('hex');
}
