/**
 * One way to print zod validation issues, for every file longmix validates (recipes, length
 * censuses): one indented line per issue, `<key.path>: <message>`, unknown keys named by path.
 */
import type { z } from 'zod';

/** The issues as lines `  <key.path>: <message>` joined by newlines (`(root)` for the top level). */
export function formatZodIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const at = issue.path.length ? issue.path.join('.') : '(root)';
      if (issue.code === 'unrecognized_keys') {
        return `  ${issue.keys.map((k) => (issue.path.length ? `${at}.${k}` : k)).join(', ')}: unknown key (remove it or check its spelling)`;
      }
      return `  ${at}: ${issue.message}`;
    })
    .join('\n');
}
