import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'proto/generated/**', 'coverage/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['core/**/*.ts', 'runtime/**/*.ts', 'store/**/*.ts', 'services/**/*.ts', 'collector/**/*.ts', 'api/**/*.ts', 'mcp/**/*.ts', 'console/**/*.ts', 'simulator/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  prettier,
);
