declare const __GATEHOUSE_VERSION__: string | undefined;

/** This build's version: injected by the bundlers (esbuild, electron-vite); "dev" when run from source. */
export const GATEHOUSE_VERSION: string = typeof __GATEHOUSE_VERSION__ === 'string' ? __GATEHOUSE_VERSION__ : 'dev';
