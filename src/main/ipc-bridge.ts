import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { commands } from '../shared/contract';
import { IpcChannel, type IpcResult } from '../shared/ipc';

/**
 * Binds the contract to Electron IPC. Every call is checked before it reaches the gateway: it must come
 * from our own window's frame, name a command of the contract, and carry input that passes its schema.
 */
export function bindContractIpc(opts: { isAppFrame: (url: string) => boolean; forward: (command: string, input: unknown) => Promise<IpcResult> }): void {
  ipcMain.handle(IpcChannel.call, async (event: IpcMainInvokeEvent, command: unknown, input: unknown): Promise<IpcResult> => {
    const url = event.senderFrame?.url ?? '';
    if (!opts.isAppFrame(url)) return { ok: false, error: { code: 'unauthorized', message: 'calls are only accepted from the Gatehouse window' } };
    if (typeof command !== 'string' || !Object.hasOwn(commands, command)) {
      return { ok: false, error: { code: 'not_found', message: `unknown command "${String(command)}"` } };
    }
    const parsed = commands[command as keyof typeof commands].input.safeParse(input ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(input)', message: i.message }));
      return { ok: false, error: { code: 'invalid', message: `invalid input for ${command}`, issues } };
    }
    return opts.forward(command, parsed.data);
  });
}
