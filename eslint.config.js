// Lint, and the layering of DESIGN.md as lint rules: a wrong import arrow fails CI instead of a review.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const msg = (text) => `Layering (DESIGN.md): ${text}`;
const restrict = (...patterns) => ['error', { patterns }];

// Relative paths that climb out of a folder into another top-level src/ folder.
const into = (...folders) => `^(\\.\\./)+(${folders.join('|')})(/|$)`;

const gatewayRules = [
  { regex: '^electron($|/)', message: msg('src/gateway is plain Node; it never imports electron.') },
  { regex: into('main', 'preload', 'renderer'), message: msg('src/gateway never imports src/main, src/preload or src/renderer.') },
];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.electron-native/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', URL: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', __dirname: 'readonly', window: 'readonly', document: 'readonly', sessionStorage: 'readonly', WebSocket: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': restrict(
        { regex: '^\\.\\./', message: msg('src/shared is the contract; it imports nothing from the project.') },
        { regex: '^(node:|electron)', message: msg('src/shared runs everywhere; no Node or Electron modules.') },
      ),
    },
  },
  { files: ['src/gateway/**'], rules: { 'no-restricted-imports': restrict(...gatewayRules) } },
  {
    files: ['src/gateway/policy/**'],
    rules: {
      'no-restricted-imports': restrict(
        ...gatewayRules,
        { regex: '^node:', message: msg('gateway/policy is pure functions: no I/O modules.') },
        { regex: '^\\.\\./(?!\\.\\./shared/)', message: msg('gateway/policy imports only src/shared and itself.') },
        { regex: '^(better-sqlite3|ws|pg-protocol|ssh2)$', message: msg('gateway/policy does no I/O.') },
      ),
    },
  },
  {
    files: ['src/renderer/**'],
    rules: {
      'no-restricted-imports': restrict(
        { regex: '^(node:|electron)', message: msg('the renderer has no Node or Electron access; it talks to the contract client only.') },
        { regex: into('gateway', 'main', 'preload'), message: msg('the renderer imports only src/shared and itself.') },
      ),
    },
  },
  {
    files: ['src/preload/**'],
    rules: {
      'no-restricted-imports': restrict(
        { regex: '^node:', message: msg('the preload exposes the contract only; no Node modules.') },
        { regex: into('gateway', 'main', 'renderer'), message: msg('the preload imports only electron and src/shared.') },
      ),
    },
  },
  {
    files: ['src/main/**'],
    ignores: ['src/main/gateway-process.ts'],
    rules: {
      'no-restricted-imports': restrict(
        { regex: into('gateway', 'renderer'), message: msg('src/main is a thin shell; only the utility-process entry (gateway-process.ts) imports src/gateway.') },
      ),
    },
  },
  {
    files: ['test/**', 'scripts/**'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
