import type ssh2Module from 'ssh2';
import { lazyRequire } from '../core/lazy-require';

/**
 * ssh2's runtime values, loaded on first use (a CLI command that never touches SSH doesn't pay for
 * loading ssh2). ssh2 is CommonJS and its exports cannot be detected statically, so it is required as a
 * whole rather than imported by name. Import values from here; types can still come from 'ssh2' with
 * `import type`.
 */
const ssh2 = lazyRequire<typeof ssh2Module>('ssh2');

/** ssh2's utils (parseKey, generateKeyPairSync, ...). */
export const sshUtils = (): typeof ssh2Module.utils => ssh2().utils;
/** ssh2's Client class. */
export const ssh2Client = (): typeof ssh2Module.Client => ssh2().Client;
/** ssh2's Server class. */
export const ssh2Server = (): typeof ssh2Module.Server => ssh2().Server;
/** ssh2's BaseAgent class (custom agents for the upstream client). */
export const ssh2BaseAgent = (): typeof ssh2Module.BaseAgent => ssh2().BaseAgent;
