/**
 * Turns a parsed record into a document, or a bad record naming what is wrong with its text.
 */
import type { ReadItem } from '../core/doc.ts';

/**
 * Extracts `record[textField]` as the text of the document at `at` (id `at.idWhere`; problems are
 * reported at `at.where`). Each cause is its own bad-record reason (never silently dropped): a
 * record that is not a JSON object (`not_an_object`: null, an array, a number, a string…), no
 * such field (`missing_text`), a null value (`null_text`, also a Parquet null cell), a value that
 * is not a string (`text_not_string`), an empty string (`empty_text`), a lone UTF-16 surrogate
 * (`lone_surrogate`).
 */
export function textFromRecord(source: string, at: { where: string; idWhere: string }, record: unknown, textField: string): ReadItem {
  const { where } = at;
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return {
      kind: 'bad',
      bad: {
        source,
        reason: 'not_an_object',
        where,
        detail: `expected a JSON object, got ${record === null ? 'null' : Array.isArray(record) ? 'array' : typeof record}`,
      },
    };
  }
  const text = (record as Record<string, unknown>)[textField];
  if (text === undefined) return { kind: 'bad', bad: { source, reason: 'missing_text', where, detail: `field "${textField}" is missing` } };
  if (text === null) return { kind: 'bad', bad: { source, reason: 'null_text', where, detail: `field "${textField}" is null` } };
  if (typeof text !== 'string') {
    const kind = Array.isArray(text) ? 'an array' : typeof text === 'object' ? 'an object' : `a ${typeof text}`;
    return { kind: 'bad', bad: { source, reason: 'text_not_string', where, detail: `field "${textField}" is ${kind}, expected a string` } };
  }
  if (text.length === 0) return { kind: 'bad', bad: { source, reason: 'empty_text', where, detail: `field "${textField}" is empty` } };
  if (!text.isWellFormed()) {
    return {
      kind: 'bad',
      bad: {
        source,
        reason: 'lone_surrogate',
        where,
        detail: `field "${textField}" holds a lone UTF-16 surrogate (an escape such as \\ud800 without its pair), which has no UTF-8 form`,
      },
    };
  }
  return { kind: 'doc', doc: { source, id: at.idWhere, idWhere: at.idWhere, text } };
}
