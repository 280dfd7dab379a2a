import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The DESIGN.md layering is enforced by lint (eslint.config.js): each wrong arrow below must fail with
 * its rule's message, each right one must pass. Runs the project's real config through ESLint's API.
 */
const eslint = new ESLint({ cwd: process.cwd() });

async function layeringErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  expect(result.messages.filter((m) => m.fatal)).toEqual([]);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const importing = (spec: string) => `import * as m from '${spec}';\nexport const x = m;\n`;

describe('lint rejects every wrong import arrow', () => {
  const wrong: [file: string, spec: string, message: RegExp][] = [
    // src/shared: the contract imports nothing from the project, no Node, no Electron.
    ['src/shared/x.ts', '../gateway/gatehouse', /src\/shared is the contract; it imports nothing from the project/],
    ['src/shared/x.ts', 'node:fs', /src\/shared runs everywhere; no Node modules/],
    ['src/shared/x.ts', 'fs', /src\/shared runs everywhere; no Node modules/],
    ['src/shared/x.ts', 'electron', /src\/shared runs everywhere; no Electron/],
    // src/gateway: plain Node, never the desktop or UI layers (at every depth).
    ['src/gateway/postgres/x.ts', 'electron', /never imports electron/],
    ['src/gateway/x.ts', '../main/ipc-bridge', /never imports src\/main, src\/preload or src\/renderer/],
    ['src/gateway/api/x.ts', '../../renderer/src/app', /never imports src\/main, src\/preload or src\/renderer/],
    ['src/gateway/cli/commands/x.ts', '../../../preload/index', /never imports src\/main, src\/preload or src\/renderer/],
    // src/gateway/policy: pure functions.
    ['src/gateway/policy/x.ts', 'node:fs', /gateway\/policy is pure functions: no I\/O, clock or process modules/],
    ['src/gateway/policy/x.ts', 'net', /gateway\/policy is pure functions: no I\/O, clock or process modules/],
    ['src/gateway/policy/x.ts', 'node:perf_hooks', /no I\/O, clock or process modules/],
    ['src/gateway/policy/x.ts', 'fs/promises', /no I\/O, clock or process modules/],
    ['src/gateway/policy/x.ts', 'better-sqlite3', /gateway\/policy is pure functions: no sockets, databases or files/],
    ['src/gateway/policy/x.ts', '../store/store', /gateway\/policy imports only src\/shared and itself/],
    ['src/gateway/policy/sql/x.ts', '../../core/errors', /gateway\/policy imports only src\/shared and itself/],
    ['src/gateway/policy/x.ts', '../gatehouse', /gateway\/policy imports only src\/shared and itself/],
    ['src/gateway/policy/x.ts', 'electron', /never imports electron/],
    // src/renderer: only src/shared and itself; no Node, no Electron, no gateway.
    ['src/renderer/src/x.ts', '../../gateway/store/store', /the renderer imports only src\/shared and itself/],
    ['src/renderer/src/screens/x.tsx', '../../../main/index', /the renderer imports only src\/shared and itself/],
    ['src/renderer/src/x.ts', 'electron', /the renderer has no Electron access/],
    ['src/renderer/src/x.ts', 'node:path', /the renderer has no Node access/],
    ['src/renderer/src/x.ts', 'ws', /the renderer has no Node access/],
    // src/preload: only electron and src/shared.
    ['src/preload/x.ts', '../gateway/store/store', /the preload imports only electron and src\/shared/],
    ['src/preload/x.ts', 'node:fs', /the preload exposes the contract only; no Node modules/],
    ['src/preload/x.ts', 'zod', /a sandboxed preload cannot load packages/],
    // src/main: src/gateway only through the utility-process entry, and only via gatehouse.
    ['src/main/x.ts', '../gateway/gatehouse', /src\/main is a thin shell; only the utility-process entry/],
    ['src/main/x.ts', '../renderer/src/app', /src\/main never imports src\/renderer or src\/preload/],
    ['src/main/gateway-process.ts', '../gateway/store/store', /imports src\/gateway only through src\/gateway\/gatehouse/],
  ];
  for (const [file, spec, message] of wrong) {
    it(`'${spec}' in ${file}`, async () => {
      const errors = await layeringErrors(file, importing(spec));
      expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
    });
  }
});

describe('lint accepts the right arrows', () => {
  const right: [file: string, spec: string][] = [
    ['src/shared/x.ts', './contract'],
    ['src/shared/x.ts', 'zod'],
    ['src/gateway/x.ts', '../shared/contract'],
    ['src/gateway/api/x.ts', '../store/store'],
    ['src/gateway/api/x.ts', 'node:fs'],
    // src/gateway/cli/main.ts is a gateway file, not src/main: depth is counted exactly.
    ['src/gateway/cli/commands/x.ts', '../main'],
    ['src/gateway/policy/x.ts', '../../shared/contract'],
    ['src/gateway/policy/x.ts', './rules'],
    ['src/gateway/policy/sql/x.ts', '../decision'],
    ['src/gateway/policy/x.ts', 'node:crypto'],
    ['src/gateway/policy/x.ts', 'node:path/posix'],
    ['src/renderer/src/x.ts', '../../shared/contract'],
    ['src/renderer/src/screens/sessions/x.tsx', '../../format'],
    ['src/renderer/src/x.ts', 'react'],
    ['src/preload/x.ts', 'electron'],
    ['src/preload/x.ts', '../shared/ipc'],
    ['src/main/x.ts', 'electron'],
    ['src/main/x.ts', '../shared/contract'],
    ['src/main/x.ts', './gateway-host'],
    ['src/main/gateway-process.ts', '../gateway/gatehouse'],
  ];
  for (const [file, spec] of right) {
    it(`'${spec}' in ${file}`, async () => {
      expect(await layeringErrors(file, importing(spec))).toEqual([]);
    });
  }
});

describe('lint keeps Node globals out of the renderer', () => {
  it('rejects process and Buffer in src/renderer', async () => {
    const [result] = await eslint.lintText('export const a = process.env.X;\nexport const b = Buffer.from("x");\n', { filePath: 'src/renderer/src/x.ts' });
    expect(result.messages.filter((m) => m.ruleId === 'no-restricted-globals')).toHaveLength(2);
  });

  it('allows them in src/gateway', async () => {
    const [result] = await eslint.lintText('export const a = process.env.X;\nexport const b = Buffer.from("x");\n', { filePath: 'src/gateway/x.ts' });
    expect(result.messages).toEqual([]);
  });
});
