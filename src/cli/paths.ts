/**
 * Paths given on the command line are the user's: relative ones are resolved from the directory
 * the user ran the command in. Under `pnpm pipeline …` (the `pipeline` script of package.json),
 * pnpm runs the command in the package root and records the user's directory in `INIT_CWD` (as
 * npm does); there that directory is used. Anywhere else (a plain `tsx src/cli/main.ts`, or
 * a process started by another script such as `pnpm test`) it is the process's working directory.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where pnpm runs package scripts). */
const PACKAGE_ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));

/**
 * The directory relative command-line paths are resolved from (absolute): `INIT_CWD` when this
 * process is the `pipeline` script run by pnpm or npm in the package root, else `cwd`.
 */
export function userDirectory(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const viaScript = env.npm_lifecycle_event === 'pipeline' && env.INIT_CWD && path.resolve(cwd) === PACKAGE_ROOT;
  return path.resolve(viaScript ? env.INIT_CWD! : cwd);
}

/** `p` resolved from {@link userDirectory} (absolute; an absolute `p` is returned normalized). */
export function userPath(p: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return path.resolve(userDirectory(env, cwd), p);
}

/**
 * The recipe file to load: the default recipe as it is (relative to the process), a given one
 * from the user's directory.
 */
export function recipePath(recipe: string, command: { getOptionValueSource(key: string): string | undefined }): string {
  return command.getOptionValueSource('recipe') === 'default' ? path.resolve(recipe) : userPath(recipe);
}
