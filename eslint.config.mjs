// ESLint 9 flat config: the recommended rules of ESLint and typescript-eslint (not the type-checked set:
// it would type-check the whole program on every run), formatting left to Prettier (eslint-config-prettier
// switches off every rule Prettier decides). `npm run lint` runs this and `prettier --check`.
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'coverage/', '.data/', 'test-results/', 'apps/console/src/api/openapi.d.ts'] },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `_name` marks a parameter a signature needs but the body does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Node scripts (bench, scripts, the test reporter): CommonJS.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['**/*.mjs'], languageOptions: { globals: globals.node } },
  {
    // Tests read the arbitrary JSON bodies of answers and poke at payloads field by field; typing each body
    // would restate the contract in every test for no safety the assertions don't already give.
    // Production code (apps/, libs/ outside specs, migrations/, bench/) keeps the rule.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  prettier,
);
