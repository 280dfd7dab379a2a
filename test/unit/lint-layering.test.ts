import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The DESIGN.md layering is enforced by lint: each wrong arrow below must fail, each right one pass. */
const eslint = new ESLint({ cwd: process.cwd() });

async function layeringErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('lint enforces the layering', () => {
  const wrong: [string, string, RegExp][] = [
    ['src/gateway/postgres/x.ts', "import { app } from 'electron';\nexport const a = app;", /never imports electron/],
    ['src/gateway/x.ts', "import { a } from '../main/ipc-bridge';\nexport const b = a;", /never imports src\/main/],
    ['src/gateway/api/x.ts', "import { a } from '../../renderer/src/app';\nexport const b = a;", /never imports src\/main, src\/preload or src\/renderer/],
    ['src/shared/x.ts', "import { a } from '../gateway/gatehouse';\nexport const b = a;", /imports nothing from the project/],
    ['src/shared/x.ts', "import fs from 'node:fs';\nexport const b = fs;", /no Node or Electron/],
    ['src/gateway/policy/x.ts', "import fs from 'node:fs';\nexport const b = fs;", /no I\/O modules/],
    ['src/gateway/policy/x.ts', "import { Store } from '../store/store';\nexport const b = Store;", /imports only src\/shared/],
    ['src/renderer/src/x.ts', "import { Store } from '../../gateway/store/store';\nexport const b = Store;", /imports only src\/shared and itself/],
    ['src/renderer/src/x.ts', "import { ipcRenderer } from 'electron';\nexport const b = ipcRenderer;", /no Node or Electron access/],
    ['src/preload/x.ts', "import { Store } from '../gateway/store/store';\nexport const b = Store;", /only electron and src\/shared/],
    ['src/main/x.ts', "import { startGatehouse } from '../gateway/gatehouse';\nexport const b = startGatehouse;", /thin shell/],
  ];
  for (const [file, code, message] of wrong) {
    it(`rejects ${code.split('\n')[0]} in ${file}`, async () => {
      const errors = await layeringErrors(file, code);
      expect(errors.length).toBe(1);
      expect(errors[0]).toMatch(message);
    });
  }

  const right: [string, string][] = [
    ['src/gateway/x.ts', "import { commands } from '../shared/contract';\nexport const b = commands;"],
    ['src/gateway/policy/x.ts', "import { commands } from '../../shared/contract';\nexport const b = commands;"],
    ['src/renderer/src/x.ts', "import { commands } from '../../shared/contract';\nexport const b = commands;"],
    ['src/preload/x.ts', "import { contextBridge } from 'electron';\nimport { IpcChannel } from '../shared/ipc';\nexport const b = [contextBridge, IpcChannel];"],
    ['src/main/gateway-process.ts', "import { startGatehouse } from '../gateway/gatehouse';\nexport const b = startGatehouse;"],
    ['src/main/x.ts', "import { app } from 'electron';\nexport const b = app;"],
  ];
  for (const [file, code] of right) {
    it(`accepts ${code.split('\n')[0]} in ${file}`, async () => {
      expect(await layeringErrors(file, code)).toEqual([]);
    });
  }
});
