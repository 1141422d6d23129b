/**
 * `pnpm pipeline verify DIR [--hf DIR] [--megatron PREFIX]`: checks the build (src/verify/verify.ts),
 * then its exports: those given, else every one beside it (src/export/discover.ts finds
 * `<dir>/hf` and every prefix in `<dir>/megatron`, whatever its name). Its OK lines are returned
 * only once everything has been checked. An export that did not
 * finish is an error whose advice is the commands that write it again, which `export` accepts:
 * first removing what is left of it (`export` never overwrites files it did not write).
 */
import { PipelineError } from '../core/errors.ts';
import { findExports, verifyExports, type IncompleteExport } from '../export/index.ts';
import { readManifest } from '../manifest/write.ts';
import { verifyBuild } from '../verify/verify.ts';
import { fmt } from './summary.ts';

/** `text` quoted for a POSIX shell when it holds anything but safe characters. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The shell commands that write an incomplete export of the build in `dir` again. */
export function rewriteCommands(dir: string, incomplete: IncompleteExport): string[] {
  const q = shellQuote;
  const remove = incomplete.remove.length
    ? [incomplete.format === 'hf' ? `rm -r ${incomplete.remove.map(q).join(' ')}` : `rm ${incomplete.remove.map(q).join(' ')}`]
    : [];
  return [...remove, `pnpm pipeline export ${q(dir)} --${incomplete.format} ${q(incomplete.target)}`];
}

/** Options of {@link runVerify}: exports given on the command line (absolute paths). */
export interface VerifyCommandOptions {
  hf?: string;
  megatron?: string;
}

/**
 * Verifies the build in `dir` and its exports; returns the lines to print (all checks passed).
 * @throws PipelineError naming an incomplete export and the commands that write it again;
 *   InvariantError (from the checks) naming the file and row of the first violation.
 */
export async function runVerify(dir: string, options: VerifyCommandOptions = {}): Promise<string[]> {
  const manifest = await readManifest(dir);
  const found = await findExports(dir, manifest);
  // An export given on the command line replaces the search for that format.
  const incomplete = found.incomplete.filter((x) => (x.format === 'hf' ? options.hf : options.megatron) === undefined);
  if (incomplete.length) {
    const lines = incomplete.map(
      (x) =>
        `${x.target}: incomplete ${x.format === 'hf' ? 'HF' : 'Megatron'} export: ${x.reason}; to write it again, run:\n  ${rewriteCommands(dir, x).join('\n  ')}`,
    );
    throw new PipelineError(lines.join('\n'), { incomplete: incomplete.map((x) => x.target) });
  }
  const report = await verifyBuild(dir);
  const hfDirs = options.hf ? [options.hf] : found.hfDirs;
  const prefixes = options.megatron ? [options.megatron] : found.megatronPrefixes;
  for (const hfDir of hfDirs) await verifyExports(dir, { hfDir });
  for (const megatronPrefix of prefixes) await verifyExports(dir, { megatronPrefix });
  const lines = [
    `OK ${dir}: ${fmt(report.shards)} shards, ${fmt(report.rows)} rows, ${fmt(report.tokens)} document tokens, ${fmt(report.padTokens)} padding tokens; every invariant holds`,
  ];
  const exports = [...hfDirs.map((d) => `hf ${d}`), ...prefixes.map((p) => `megatron ${p}`)];
  if (exports.length) lines.push(`OK exports: ${exports.join(', ')} hold the same ${fmt(report.rows)} rows token for token`);
  return lines;
}
