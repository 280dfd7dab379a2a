import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import type { Plugin } from 'vite';
import { cspMeta } from './src/main/content-security-policy';

const version = JSON.stringify(JSON.parse(readFileSync(resolve(__dirname, 'package.json'), 'utf8')).version);

/**
 * Writes the console's Content-Security-Policy into the built index.html. Build only: the dev server's
 * hot reload needs inline scripts. The page then carries its policy wherever it is loaded from (file://
 * in the app, `gatehouse serve` in a browser).
 */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'gatehouse-csp',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: cspMeta() }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  main: {
    // Packages (better-sqlite3 and its native binary, ws, zod...) stay in node_modules, loaded at run time.
    plugins: [externalizeDepsPlugin()],
    define: { __GATEHOUSE_VERSION__: version },
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          // The gateway runs in an Electron utility process: plain src/gateway behind a message port.
          'gateway-process': resolve(__dirname, 'src/main/gateway-process.ts'),
        },
      },
    },
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        // Sandboxed preloads are CommonJS and can require only electron: src/shared code is bundled in.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    // Relative asset URLs: the same build is loaded from file:// by the app and from / by `gatehouse serve`.
    base: './',
    plugins: [react(), contentSecurityPolicy()],
    build: {
      minify: 'esbuild',
      rollupOptions: {
        input: resolve(__dirname, 'src/renderer/index.html'),
        output: {
          // Libraries in their own long-cached chunks; screens are split by their dynamic imports.
          manualChunks: (id) => (/node_modules[\\/](react|react-dom|scheduler)[\\/]/.test(id) ? 'react' : /node_modules[\\/]zod[\\/]/.test(id) ? 'zod' : undefined),
        },
      },
    },
  },
});
