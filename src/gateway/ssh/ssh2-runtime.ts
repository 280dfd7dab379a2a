import ssh2 from 'ssh2';

/**
 * ssh2's runtime values. ssh2 is CommonJS and its exports cannot be detected statically, so Node's ESM
 * loader (the bundled CLI, the desktop gateway process) offers only the default export: named imports
 * would fail at load time. Import values from here; types can still come from 'ssh2' with `import type`.
 */
export const { Server, Client, utils } = ssh2;
