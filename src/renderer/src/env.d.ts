import type { GatehouseBridge } from '../../shared/ipc';

declare global {
  interface Window {
    /** Present only inside the desktop app (exposed by the preload). */
    gatehouse?: GatehouseBridge;
  }
}
export {};
