// Lint rules that keep the code's shape (run by `pnpm test`):
// - layering: each folder of src/ is one element; a stage imports core, config, the libraries
//   (read, tokenize, select, pack, shard, manifest) and the stages before it in the pipeline,
//   never a later stage, the executors (run) or the command line (cli);
// - determinism: Math.random is banned (seeds are explicit; see src/core/rng.ts);
// - every export of src/ carries a doc comment.
import boundaries from 'eslint-plugin-boundaries';
import jsdoc from 'eslint-plugin-jsdoc';
import tseslint from 'typescript-eslint';

/** Each src/ folder and the folders it may import, besides itself. */
const LAYERS = {
  core: [],
  config: ['core'],
  read: ['core', 'config'],
  tokenize: ['core', 'config'],
  select: ['core', 'config'],
  pack: ['core', 'config'],
  shard: ['core', 'config'],
  manifest: ['core', 'config', 'shard', 'tokenize'],
  census: ['core', 'config', 'read', 'tokenize', 'select', 'manifest'],
  plan: ['core', 'config', 'select', 'pack', 'shard', 'manifest', 'tokenize', 'census'],
  write: ['core', 'config', 'pack', 'shard', 'manifest', 'census', 'plan'],
  export: ['core', 'config', 'shard', 'manifest'],
  verify: ['core', 'config', 'shard', 'manifest', 'tokenize'],
  report: ['core', 'config', 'shard', 'manifest'],
  commit: ['core', 'config', 'shard', 'manifest', 'plan', 'write', 'export', 'report'],
  run: ['core', 'config', 'read', 'tokenize', 'select', 'pack', 'shard', 'manifest', 'census', 'plan', 'write', 'export', 'verify', 'report', 'commit'],
  cli: ['core', 'config', 'read', 'tokenize', 'select', 'pack', 'shard', 'manifest', 'census', 'plan', 'write', 'export', 'verify', 'report', 'commit', 'run'],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', '.venv-*/**', 'loaders/**', 'data/**', 'manifests/**'] },
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2024, sourceType: 'module' },
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Math.random is banned: derive randomness from the recipe seed (src/core/rng.ts).' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries, jsdoc },
    settings: {
      'boundaries/elements': Object.keys(LAYERS).map((type) => ({ type, pattern: `src/${type}` })),
      'boundaries/include': ['src/**/*'],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: Object.entries(LAYERS).map(([type, allowed]) => ({
            from: { element: { type } },
            allow: { to: { element: { types: { anyOf: [type, ...allowed] } } } },
          })),
        },
      ],
      'boundaries/no-unknown-dependencies': 'error',
      'jsdoc/require-jsdoc': [
        'error',
        {
          publicOnly: true,
          require: { FunctionDeclaration: true, ClassDeclaration: true, MethodDefinition: false },
          contexts: ['TSInterfaceDeclaration', 'TSTypeAliasDeclaration', 'TSEnumDeclaration', 'ExportNamedDeclaration > VariableDeclaration'],
        },
      ],
    },
  },
);
