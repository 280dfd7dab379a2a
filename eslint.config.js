// Lint, and the layering of DESIGN.md as lint rules: a wrong import arrow fails CI instead of a review.
//
// `no-restricted-imports` only sees the import string, so each layer gets one block per folder depth:
// from src/gateway/api/x.ts `../../main/y` reaches src/main, but from src/gateway/cli/commands/x.ts
// `../main` is src/gateway/cli/main.ts. Counting the `../` exactly keeps both right. ESLint replaces (does
// not merge) a rule's options when several blocks match a file, so every block carries its layer's
// complete list of patterns, and narrower layers (gateway/policy, main/gateway-process.ts) come later.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const MAX_DEPTH = 8;
const msg = (text) => `Layering (DESIGN.md): ${text}`;
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Node's built-in modules among `names`, bare or with the node: prefix, plus every other node:* module. */
const nodeBuiltins = (names) => `^(?:node:|(?:${names.map(esc).join('|')})(?:/|$))`;
/** Every Node built-in module except `allowed` (and their subpaths such as path/posix). */
const nodeBuiltinsExcept = (allowed) => `^(?:node:(?!(?:${allowed.map(esc).join('|')})(?:/|$))|(?:${ALL_BUILTINS.filter((m) => !allowed.includes(m.split('/')[0])).map(esc).join('|')})(?:/|$))`;
const ALL_BUILTINS = builtinModules.filter((m) => !m.startsWith('_'));
// Node modules with no I/O, clock or process state: what pure policy code may still use.
const PURE_BUILTINS = ['buffer', 'crypto', 'path', 'string_decoder', 'url', 'util'];
const IO_PACKAGES = ['better-sqlite3', 'commander', 'pg', 'pg-protocol', 'selfsigned', 'ssh2', 'ws'];

/** `../` exactly `n` times (optionally after `./`), anchored at the start of the import path. */
const up = (n) => `^(?:\\./)?(?:\\.\\./){${n}}`;
/** Imports that land in one of `folders` of src/, from a file `depth` folders below src/. */
const intoSrc = (depth, folders) => `${up(depth)}(?:${folders.join('|')})(?:/|$)`;
/** Imports that leave the file's own src/ folder for anything but `allowed` (or leave src/ entirely). */
const outsideOf = (depth, allowed) => `${up(depth)}(?!(?:${allowed.join('|')})/)`;

const rules = {
  shared: (d) => [
    { regex: up(d), message: msg('src/shared is the contract; it imports nothing from the project.') },
    { regex: nodeBuiltins(ALL_BUILTINS), message: msg('src/shared runs everywhere; no Node modules.') },
    { regex: '^electron(?:/|$)', message: msg('src/shared runs everywhere; no Electron.') },
  ],
  gateway: (d) => [
    { regex: '^electron(?:/|$)', message: msg('src/gateway is plain Node; it never imports electron.') },
    { regex: intoSrc(d, ['main', 'preload', 'renderer']), message: msg('src/gateway never imports src/main, src/preload or src/renderer.') },
  ],
  policy: (d) => [
    ...rules.gateway(d),
    { regex: nodeBuiltinsExcept(PURE_BUILTINS), message: msg(`gateway/policy is pure functions: no I/O, clock or process modules (only ${PURE_BUILTINS.join(', ')}).`) },
    { regex: `^(?:${IO_PACKAGES.map(esc).join('|')})(?:/|$)`, message: msg('gateway/policy is pure functions: no sockets, databases or files.') },
    // From src/gateway/policy/**, d-1 `../` reach src/gateway: anything there but policy/ is another gateway folder.
    { regex: `${up(d - 1)}(?!\\.\\./)(?!policy(?:/|$))`, message: msg('gateway/policy imports only src/shared and itself, no other gateway folder.') },
  ],
  renderer: (d) => [
    { regex: nodeBuiltins(ALL_BUILTINS), message: msg('the renderer has no Node access; it talks to the contract client only.') },
    { regex: '^electron(?:/|$)', message: msg('the renderer has no Electron access; it talks to the contract client only.') },
    { regex: `^(?:${IO_PACKAGES.map(esc).join('|')})(?:/|$)`, message: msg('the renderer has no Node access; it talks to the contract client only.') },
    { regex: outsideOf(d, ['shared', 'renderer']), message: msg('the renderer imports only src/shared and itself.') },
  ],
  preload: (d) => [
    { regex: nodeBuiltins(ALL_BUILTINS), message: msg('the preload exposes the contract only; no Node modules.') },
    // A sandboxed preload cannot require packages; it gets electron and bundled src/shared code only.
    { regex: '^(?![./])(?!electron$)', message: msg('the preload imports only electron and src/shared (a sandboxed preload cannot load packages).') },
    { regex: outsideOf(d, ['shared', 'preload']), message: msg('the preload imports only electron and src/shared.') },
  ],
  main: (d) => [
    { regex: intoSrc(d, ['gateway']), message: msg('src/main is a thin shell; only the utility-process entry (gateway-process.ts) imports src/gateway/gatehouse.') },
    { regex: intoSrc(d, ['renderer', 'preload']), message: msg('src/main never imports src/renderer or src/preload.') },
  ],
  gatewayProcess: (d) => [
    { regex: `${up(d)}gateway/(?!gatehouse$)`, message: msg('the utility-process entry imports src/gateway only through src/gateway/gatehouse.') },
    { regex: intoSrc(d, ['renderer', 'preload']), message: msg('src/main never imports src/renderer or src/preload.') },
  ],
};

/** One block per depth below src/ for the files under `folder` (e.g. "gateway/policy"). */
function layer(folder, make, { ignores } = {}) {
  const base = folder.split('/').length; // folders between src/ and a file directly in `folder`
  const blocks = [];
  for (let d = base; d <= MAX_DEPTH; d++) {
    blocks.push({
      files: [`src/${folder}/${'*/'.repeat(d - base)}*`],
      ...(ignores ? { ignores } : {}),
      rules: { 'no-restricted-imports': ['error', { patterns: make(d) }] },
    });
  }
  return blocks;
}

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'release/**', 'node_modules/**', '.electron-native/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true }],
      'no-empty': ['error', { allowEmptyCatch: true }],
      // `any` is sometimes the honest type at a boundary (wire data, test doubles); strict TS covers the rest.
      '@typescript-eslint/no-explicit-any': 'off',
      // `{}` as a generic constraint mirrors library typings (better-sqlite3's bind parameters).
      '@typescript-eslint/no-empty-object-type': ['error', { allowObjectTypes: 'always' }],
    },
  },
  // Tests and scripts: terse is fine (comma expressions in table-driven tests, require in scripts).
  { files: ['test/**', 'scripts/**', '*.config.*'], rules: { '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-unused-expressions': 'off' } },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    // tsconfig gives every folder Node's types; the renderer runs in a sandboxed page without them.
    rules: {
      'no-restricted-globals': ['error', ...['process', 'Buffer', 'require', 'module', '__dirname', '__filename', 'global', 'setImmediate'].map((name) => ({ name, message: msg('the renderer runs in a sandboxed page; Node globals do not exist there.') }))],
    },
  },
  ...layer('shared', rules.shared),
  ...layer('gateway', rules.gateway),
  ...layer('gateway/policy', rules.policy),
  ...layer('renderer', rules.renderer),
  ...layer('preload', rules.preload),
  ...layer('main', rules.main, { ignores: ['src/main/gateway-process.ts'] }),
  { files: ['src/main/gateway-process.ts'], rules: { 'no-restricted-imports': ['error', { patterns: rules.gatewayProcess(1) }] } },
);
