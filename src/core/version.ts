/**
 * The tool's name and version, read from package.json (recorded in every manifest).
 */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

/** `{ name, version }` of this tool. */
export const TOOL = Object.freeze({ name: pkg.name, version: pkg.version });
