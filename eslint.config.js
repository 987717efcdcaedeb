// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * The layers, as DESIGN.md draws them. A module decides what to change and knows nothing of who
 * runs it; the engine knows no playbook and no screen; a step reaches another step's code only
 * through a shared file of its playbook.
 */
const layer = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.lab/**', '.lab-cache/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // The budget: a function that outgrows it is split into named parts.
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      complexity: ['error', 20],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Steps, handlers and prompts implement interfaces that return promises; one that needs no
      // await stays async, so that what it throws reaches the caller as a rejection.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['src/modules/**', 'src/contract/**', 'src/transport/**', 'src/inventory/**'],
    rules: layer(
      ['**/engine/**', '**/ui/**', '**/playbooks/**', '**/main.js', '**/cli*.js'],
      'this layer is below the engine, the UI and the playbooks',
    ),
  },
  {
    files: ['src/engine/**'],
    rules: layer(
      ['**/ui/**', '**/playbooks/**', '**/main.js', '**/cli*.js'],
      'the engine knows no playbook and no front end',
    ),
  },
  {
    files: ['playbooks/*/steps/**'],
    rules: layer(['./*.js'], 'a step does not import another step: move what they share to a file of the playbook'),
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      // Tests read as specifications: one describe holds many tests, and asserting may be long.
      'max-lines-per-function': 'off',
      complexity: 'off',
      // node:test's describe() and test() return promises that its runner awaits itself.
      '@typescript-eslint/no-floating-promises': 'off',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
