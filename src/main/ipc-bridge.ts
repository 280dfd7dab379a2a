import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { IpcChannel, type IpcResult } from '../shared/ipc';
import { checkContractCall } from './contract-call';

/**
 * Binds the contract to Electron IPC, once at start. Every call is checked before it reaches the gateway:
 * it must come from the top frame of our own window showing our own page, name a command of the
 * contract, and carry input that passes its schema. Errors come back as data (a ContractErrorBody).
 */
export function bindContractIpc(opts: {
  appWebContents: () => WebContents | null;
  isAppFrame: (url: string) => boolean;
  forward: (command: string, input: unknown) => Promise<IpcResult>;
}): void {
  ipcMain.handle(IpcChannel.call, async (event: IpcMainInvokeEvent, command: unknown, input: unknown): Promise<IpcResult> => {
    const frame = event.senderFrame;
    const ours = event.sender === opts.appWebContents() && frame !== null && frame === event.sender.mainFrame && opts.isAppFrame(frame.url);
    if (!ours) return { ok: false, error: { code: 'unauthorized', message: 'calls are only accepted from the Gatehouse window' } };
    const checked = checkContractCall(command, input);
    if (!checked.ok) return checked;
    return opts.forward(checked.command, checked.input);
  });
}
