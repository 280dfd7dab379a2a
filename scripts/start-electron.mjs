// `npm start`: build and launch the desktop app.
// 1. Make sure the Electron binary is there (npm install skips its download; fetch it now if we can).
// 2. Keep an Electron-ABI build of better-sqlite3 in .electron-native/, so the app and the tests (which
//    use the Node build in node_modules) never fight over one binary.
// 3. electron-vite build, then run Electron on the project.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts }).status === 0;

function electronBinary() {
  try {
    const p = require('electron');
    return typeof p === 'string' && existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

let electron = electronBinary();
if (!electron) {
  console.log('The Electron binary is not installed yet; downloading it (node node_modules/electron/install.js)...');
  const dl = spawnSync(process.execPath, [path.join(root, 'node_modules/electron/install.js')], { cwd: root, encoding: 'utf8' });
  if (dl.status !== 0) console.error(`download failed: ${(dl.stderr || dl.stdout || '').trim().split('\n')[0]}`);
  electron = electronBinary();
}
if (!electron) {
  console.error(
    '\nGatehouse could not start the desktop app: the Electron binary is missing and could not be downloaded ' +
      '(this machine cannot reach the Electron download host). On a machine with internet access, run ' +
      '`node node_modules/electron/install.js` once and then `npm start` again. Meanwhile the same console runs ' +
      'headless: `npx gatehouse serve`, then open the printed console URL in a browser and sign in with the admin ' +
      'token it prints on first run (or try `npx gatehouse demo`).\n',
  );
  process.exit(1);
}

const electronVersion = JSON.parse(readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')).version;
const nativeDir = path.join(root, '.electron-native/better-sqlite3');
const stamp = path.join(root, '.electron-native/stamp.json');
const want = JSON.stringify({ electron: electronVersion, sqlite: JSON.parse(readFileSync(path.join(root, 'node_modules/better-sqlite3/package.json'), 'utf8')).version });
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== want) {
  console.log(`Building better-sqlite3 for Electron ${electronVersion} into .electron-native/ ...`);
  rmSync(nativeDir, { recursive: true, force: true });
  mkdirSync(path.dirname(nativeDir), { recursive: true });
  cpSync(path.join(root, 'node_modules/better-sqlite3'), nativeDir, { recursive: true });
  const ok = run('npx', ['--yes', 'node-gyp', 'rebuild', `--target=${electronVersion}`, '--runtime=electron', '--dist-url=https://electronjs.org/headers'], { cwd: nativeDir });
  if (!ok) {
    console.error('Building better-sqlite3 for Electron failed (see above). `npx gatehouse serve` works without it.');
    process.exit(1);
  }
  writeFileSync(stamp, want);
}

if (!run('npx', ['electron-vite', 'build'])) process.exit(1);
process.exit(run(electron, ['.']) ? 0 : 1);
