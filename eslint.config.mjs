// Lint rules the house style asks for; types are checked by tsc.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', '.vscode-test/**', 'node_modules/**', 'bench/peers/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { project: './tsconfig.json' } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      eqeqeq: 'error',
      curly: 'error',
    },
  },
  {
    // Only the extension may import the VS Code API: the server and the shared contract run in plain node.
    files: ['src/server/**/*.ts', 'src/shared/**/*.ts', 'src/remote/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'Only src/extension may import vscode.' }],
        patterns: [{ group: ['**/extension/**'], message: 'The servers and the shared contract never import the extension.' }],
      }],
    },
  },
  {
    files: ['**/*.mjs'],
    rules: { eqeqeq: 'error', curly: 'error' },
  },
);
