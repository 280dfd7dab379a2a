import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IpcChannel, type GatehouseBridge } from '../shared/ipc';

/**
 * Exposes exactly the contract to the renderer: one call channel and one event channel. Never the raw
 * ipcRenderer. The main process validates every call (sender, command name, input schema).
 */
const bridge: GatehouseBridge = {
  call: (command, input) => ipcRenderer.invoke(IpcChannel.call, command, input),
  on(listener) {
    const handler = (_e: IpcRendererEvent, event: string, payload: unknown) => listener(event, payload);
    ipcRenderer.on(IpcChannel.event, handler);
    return () => ipcRenderer.off(IpcChannel.event, handler);
  },
};

contextBridge.exposeInMainWorld('gatehouse', bridge);
