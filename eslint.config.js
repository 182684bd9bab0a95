import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'dist/', '.serverless/', '.esbuild/', 'coverage/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The serverless and esbuild plugins in deploy/ are CommonJS (serverless@3 require()s them).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', Buffer: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The domain and application layers stay free of `any` and of I/O libraries.
    files: ['src/domain/**/*.ts', 'src/application/**/*.ts', 'src/ports/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['better-sqlite3', 'redis', '@redis/*', '@eventstore/*', '@grpc/*', '@middy/*', 'prom-client', 'node:fs', 'node:net', 'node:http'], message: 'Only adapters, config, handlers and the projector main touch I/O libraries.' },
            { group: ['#adapters/*', '#http/*', '#projector/*', '#config'], message: 'Inner layers do not import outer ones.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['#application/*', '#ports/*', '#adapters/*', '#http/*', '#projector/*', '#config', 'node:*'], message: 'The domain imports nothing outside itself.' }] },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'No environment in the domain.' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Time comes in as command metadata.' }],
    },
  },
);
