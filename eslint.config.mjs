// ESLint for the TypeScript sources, with typescript-eslint's type-aware rules
// (the rules that need the type checker: floating and misused promises, unsafe
// `any` flows). Formatting is Prettier's job (.prettierrc.json), so every rule
// that only concerns layout is switched off by eslint-config-prettier.
// `npm run lint` runs this with --max-warnings 0 and then `prettier --check`.
import js from '@eslint/js';
import comments from '@eslint-community/eslint-plugin-eslint-comments/configs';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'build/**',
      'build-*/**',
      'node_modules/**',
      '.cuda/**',
      '.pyenv-compat/**',
      'bench/results/**',
    ],
  },
  {
    linterOptions: {
      // A suppression that no longer suppresses anything is an error, so stale ones go.
      reportUnusedDisableDirectives: 'error',
    },
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  comments.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Each inline suppression says why (`-- reason`), and names its rule.
      '@eslint-community/eslint-comments/require-description': ['error', { ignore: [] }],
      '@eslint-community/eslint-comments/no-unlimited-disable': 'error',
      '@eslint-community/eslint-comments/disable-enable-pair': ['error', { allowWholeFile: false }],

      // A promise nobody awaits or catches is a silent outage in a server.
      // `void p` marks a promise whose function settles every outcome itself.
      // node:test's test()/describe() return promises the runner awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          ignoreVoid: true,
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      // An async function where a void callback is expected (an event handler,
      // a timer, uWS's handlers) loses its rejection.
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/promise-function-async': 'off',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],

      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: true },
      ],
      '@typescript-eslint/consistent-type-exports': 'error',
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // `any` only at marked boundaries: an eslint-disable-next-line with the reason.
      '@typescript-eslint/no-explicit-any': 'error',

      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      // `[${shape}]` in a message is the comma-joined dims, on purpose.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowArray: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
    },
  },
  // Dependencies point one way (CONTRIBUTING.md, "Code map"): front ends →
  // pipeline → serving → batching/engine. These keep the lower layers from
  // reaching up.
  {
    files: ['native/**/*.ts'],
    ignores: ['native/**/*.test.ts', 'native/fuzz/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['**/gateway/**', '**/bin/**'], message: 'the engine imports nothing from the gateway' }],
        },
      ],
    },
  },
  {
    files: ['common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/gateway/**', '**/native/**', '**/bin/**'], message: 'common/ sits below every part' },
          ],
        },
      ],
    },
  },
  {
    files: ['gateway/**/*.ts'],
    // server.ts is the composition root: it wires the front ends to the rest;
    // the WebSocket front end shares HTTP's port (uWS) and JSON tensor codec;
    // asynchronous jobs are a front end too (KServe JSON bodies, /api/v1 routes).
    ignores: [
      'gateway/http/**',
      'gateway/grpc/**',
      'gateway/ws/**',
      'gateway/jobs/**',
      'gateway/server.ts',
      '**/*.test.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/http/**', '**/bin/**'], message: 'only front ends import front ends' }] },
      ],
    },
  },
  {
    files: ['gateway/batching/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/http/**',
                '**/bin/**',
                '**/repository/**',
                '**/*-codec',
                '**/infer-request',
                '**/infer-response',
              ],
              message: 'batching imports no codec and nothing above it',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read JSON bodies of our own server and probe them field by field
    // (`body.outputs[0].data`): a wrong shape fails the assertion, so typing
    // every response would add nothing. Stubs are `async` to match the
    // Promise-returning interfaces they stand in for.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // This file and other plain JS: no type information.
    files: ['**/*.{js,mjs,cjs}'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);
