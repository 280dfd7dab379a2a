import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * A CommonJS package loaded the first time it is used rather than when the process starts. Every
 * `gatehouse` CLI command loads the whole gateway bundle, and packages such as ssh2 or selfsigned cost
 * tens of milliseconds each to load: commands that never touch SSH or certificates should not pay for
 * them. (A bundle hoists static imports of external packages, so only a call like this defers them.)
 */
export function lazyRequire<T>(name: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= load(name) as T);
}
