/**
 * Finds the exports beside a build, for `verify`: the HF directory `<dir>/hf` (complete when its
 * `state.json`, written last, is there) and every Megatron prefix in `<dir>/megatron` (complete
 * when its five files are there; `<prefix>.idx` is written last), whatever the prefix is called.
 * Leftovers of an export that was interrupted (files of a prefix without all five, `.tmp` files,
 * an HF directory without `state.json`, an export directory the manifest lists but that is gone)
 * are reported as incomplete, with the files to remove before it is written again: `export`
 * refuses a non-empty HF directory and existing Megatron files, so that it never overwrites what
 * it did not write.
 */
import { readdir } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Manifest } from '../manifest/types.ts';
import { HF_STATE_FILE } from './hfFormat.ts';
import { megatronPaths } from './megatronFormat.ts';

/** An export that is not complete: what it is, and what must go before it is written again. */
export interface IncompleteExport {
  format: 'hf' | 'megatron';
  /** The HF directory, or the Megatron prefix. */
  target: string;
  /** Why it is incomplete. */
  reason: string;
  /** Paths to remove (an HF directory is removed whole; Megatron files one by one). */
  remove: string[];
}

/** The exports found beside a build. */
export interface FoundExports {
  hfDirs: string[];
  megatronPrefixes: string[];
  incomplete: IncompleteExport[];
}

/** A file of a Megatron export: its prefix (base name) and whether it is a final file. */
const MEGATRON_FILE = /^(.+?)\.(bin|idx|doc_lens\.npy|doc_offsets\.npy|longmix\.json)(\.tmp|\.unordered\.tmp)?$/;

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** The HF export at `hfDir`, if there is one. */
async function findHf(hfDir: string, listed: boolean, found: FoundExports): Promise<void> {
  if (!existsSync(hfDir)) {
    if (listed) found.incomplete.push({ format: 'hf', target: hfDir, reason: 'the manifest lists it, but it is missing', remove: [] });
    return;
  }
  if (existsSync(path.join(hfDir, HF_STATE_FILE))) found.hfDirs.push(hfDir);
  else found.incomplete.push({ format: 'hf', target: hfDir, reason: `no ${HF_STATE_FILE} (the export did not finish)`, remove: [hfDir] });
}

/** The Megatron exports in `megatronDir`, by prefix. */
async function findMegatron(megatronDir: string, listedPrefix: string | null, found: FoundExports): Promise<void> {
  if (!isDir(megatronDir)) {
    if (listedPrefix) found.incomplete.push({ format: 'megatron', target: listedPrefix, reason: 'the manifest lists it, but it is missing', remove: [] });
    return;
  }
  const byPrefix = new Map<string, string[]>();
  for (const name of (await readdir(megatronDir)).sort()) {
    const m = MEGATRON_FILE.exec(name);
    if (!m) continue;
    const files = byPrefix.get(m[1]) ?? byPrefix.set(m[1], []).get(m[1])!;
    files.push(name);
  }
  if (listedPrefix && !byPrefix.has(path.basename(listedPrefix)))
    found.incomplete.push({ format: 'megatron', target: listedPrefix, reason: 'the manifest lists it, but it is missing', remove: [] });
  for (const [base, names] of byPrefix) {
    const prefix = path.join(megatronDir, base);
    const finals = Object.values(megatronPaths(prefix));
    const missing = finals.filter((f) => !names.includes(path.basename(f)));
    const leftovers = names.filter((n) => !finals.includes(path.join(megatronDir, n)));
    if (missing.length === 0 && leftovers.length === 0) {
      found.megatronPrefixes.push(prefix);
      continue;
    }
    const reason = missing.length
      ? `missing ${missing.map((f) => path.basename(f)).join(', ')} (the export did not finish)`
      : `leftover ${leftovers.join(', ')} of an interrupted export`;
    found.incomplete.push({ format: 'megatron', target: prefix, reason, remove: names.map((n) => path.join(megatronDir, n)) });
  }
}

/**
 * The exports in `<dir>/hf` and `<dir>/megatron` (see the file header).
 * @param manifest - the build's manifest: the export directories it lists must be there.
 */
export async function findExports(dir: string, manifest: Manifest): Promise<FoundExports> {
  const found: FoundExports = { hfDirs: [], megatronPrefixes: [], incomplete: [] };
  await findHf(path.join(dir, 'hf'), manifest.exports?.hf === 'hf', found);
  const listed = manifest.exports?.megatron === 'megatron' ? path.join(dir, 'megatron', manifest.recipe.name) : null;
  await findMegatron(path.join(dir, 'megatron'), listed, found);
  return found;
}
