import type { GatehouseBridge } from '../../shared/ipc';

declare global {
  interface Window {
    /** The contract bridge the desktop app's preload exposes; absent in a browser. */
    gatehouse?: GatehouseBridge;
  }
}
export {};
