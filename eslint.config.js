// Lint for the house rules tsc cannot check: parts never import each other (only shared/),
// shared/ imports no part, and no file grows past 350 lines. Type-aware rules are left out
// so `npm test` stays fast on two cores.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const PARTS = ['broker', 'server', 'slack', 'device'];

/** Import patterns that leave `folder` for another part or the CLI, at any depth. */
function foreignImports(folder) {
  const others = [...PARTS.filter((p) => p !== folder), 'cli'];
  return others.map((other) => ({
    group: [`**/${other}/**`, `**/${other}`],
    message: `${folder}/ may import only shared/ and its own files, not ${other}/ (docs/architecture.md: parts talk over MQTT topics).`,
  }));
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/**', 'coverage/**'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    rules: {
      'max-lines': ['error', { max: 350, skipBlankLines: false, skipComments: false }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // A leading underscore marks a parameter or binding kept for its position or to drop it from a rest.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  ...PARTS.map((part) => ({
    files: [`${part}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: foreignImports(part) }] },
  })),
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...PARTS, 'cli'].map((other) => ({
            group: [`**/${other}/**`, `**/${other}`],
            message: `shared/ is the contract every part imports, so it may not import ${other}/.`,
          })),
        },
      ],
    },
  },
);
