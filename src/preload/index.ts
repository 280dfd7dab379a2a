import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IpcChannel, type GatehouseBridge } from '../shared/ipc';

/**
 * Exposes exactly the contract to the renderer as `window.gatehouse`: `call` on one channel and `on` for
 * events from another. Never the raw ipcRenderer, never a channel name chosen by the page. The main
 * process validates every call (sender frame, command name, input schema).
 */
const bridge: GatehouseBridge = {
  call: (command, input) => ipcRenderer.invoke(IpcChannel.call, String(command), input),
  on(event, listener) {
    const name = String(event);
    const handler = (_e: IpcRendererEvent, eventName: unknown, payload: unknown) => {
      if (eventName === name) listener(payload);
    };
    ipcRenderer.on(IpcChannel.event, handler);
    return () => {
      ipcRenderer.off(IpcChannel.event, handler);
    };
  },
};

contextBridge.exposeInMainWorld('gatehouse', bridge);
