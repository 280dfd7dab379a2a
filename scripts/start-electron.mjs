// `npm start`: build and launch the desktop app.
// 1. Make sure the Electron binary is there (npm install may skip its download; fetch it now if we can).
// 2. Keep an Electron-ABI build of better-sqlite3 in .electron-native/: the app's gateway process loads
//    it by path, while the tests keep the Node build in node_modules, so `npm test` and `npm start` can
//    alternate without rebuilding anything.
// 3. electron-vite build, then run Electron on the project.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts }).status === 0;
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** The Electron executable, or null when the package is there but its binary is not. */
function electronBinary() {
  try {
    const p = require('electron');
    return typeof p === 'string' && existsSync(p) ? p : null;
  } catch {
    return null; // electron/index.js throws when its binary was never downloaded
  }
}

let electron = electronBinary();
if (!electron) {
  console.log('The Electron binary is not installed yet; downloading it (node node_modules/electron/install.js)...');
  const env = { ...process.env };
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD; // set for CI installs; here the binary is what we want
  const dl = spawnSync(process.execPath, [path.join(root, 'node_modules/electron/install.js')], { cwd: root, env, encoding: 'utf8' });
  electron = electronBinary();
  if (!electron) {
    const reason = `${dl.stderr ?? ''}\n${dl.stdout ?? ''}`.split('\n').map((l) => l.trim()).find((l) => /error|ENOTFOUND|ECONN|ETIMEDOUT|status/i.test(l)) ?? `the installer exited with ${dl.status}`;
    console.error(
      `\nGatehouse could not start the desktop app: the Electron binary is not installed and downloading it failed ` +
        `(${reason.slice(0, 160)}). To get it, run \`node node_modules/electron/install.js\` on a machine that can reach ` +
        `github.com (behind a proxy set HTTPS_PROXY; with a local mirror set ELECTRON_MIRROR), then \`npm start\` again. ` +
        `Meanwhile the same console runs without Electron: start \`npx gatehouse serve\`, open the console URL it prints ` +
        `in a browser and sign in with the admin token it prints on its first run (or try \`npx gatehouse demo\`).\n`,
    );
    process.exit(1);
  }
}

/** Build better-sqlite3 against Electron's headers into .electron-native/ (once per version pair). */
function ensureElectronSqlite() {
  const electronVersion = readJson(path.join(root, 'node_modules/electron/package.json')).version;
  const sqliteVersion = readJson(path.join(root, 'node_modules/better-sqlite3/package.json')).version;
  const nativeDir = path.join(root, '.electron-native/better-sqlite3');
  const stamp = path.join(root, '.electron-native/stamp.json');
  const want = JSON.stringify({ electron: electronVersion, betterSqlite3: sqliteVersion, arch: process.arch });
  const binary = path.join(nativeDir, 'build/Release/better_sqlite3.node');
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;

  console.log(`Building better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} into .electron-native/ (once; about two minutes)...`);
  rmSync(path.dirname(nativeDir), { recursive: true, force: true });
  mkdirSync(path.dirname(nativeDir), { recursive: true });
  const source = path.join(root, 'node_modules/better-sqlite3');
  // Everything but the Node-ABI build output.
  cpSync(source, nativeDir, { recursive: true, filter: (src) => path.relative(source, src).split(path.sep)[0] !== 'build' });
  // Electron's documented way to build a native module by hand: node-gyp against Electron's headers.
  const args = ['rebuild', `--target=${electronVersion}`, `--arch=${process.arch}`, '--dist-url=https://electronjs.org/headers'];
  const nodeDir = path.dirname(process.execPath);
  const bundledGyp = [path.join(nodeDir, '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'), path.join(nodeDir, 'node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')].find((p) => existsSync(p));
  // npm ships node-gyp; fetch it only when this npm does not.
  const ok = bundledGyp ? run(process.execPath, [bundledGyp, ...args], { cwd: nativeDir }) : run('npx', ['--yes', 'node-gyp', ...args], { cwd: nativeDir });
  if (!ok || !existsSync(binary)) {
    console.error('Building better-sqlite3 for Electron failed (see above): it needs a C++ toolchain (build-essential / Xcode / VS Build Tools) and python3. `npx gatehouse serve` works without it.');
    process.exit(1);
  }
  writeFileSync(stamp, want);
}

ensureElectronSqlite();
if (!run('npx', ['electron-vite', 'build'])) process.exit(1);
process.exit(run(electron, ['.', ...process.argv.slice(2)]) ? 0 : 1);
