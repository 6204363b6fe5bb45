import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importLayersConfig } from './eslint.layers.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dashboard/dist/**', 'dashboard/.dist-*/**', 'docs/**', '.data/**', '.build/**', '.perf/**', '.coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // vitest's test()/describe() return nothing; an un-awaited expect.poll or vi.waitFor is a bug
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // folders import one way (docs/architecture.md, "Layers"), and no file cycles
  importLayersConfig(import.meta.dirname),
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
  },
);
