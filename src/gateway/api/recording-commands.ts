import path from 'node:path';
import { sshChannelToDto } from '../core/dto';
import { GatehouseError, invalid, notFound } from '../core/errors';
import { ReplayCache } from '../recording/replay-cache';
import type { ApiDeps, Handlers } from './api-types';

/** Characters of event data per page (the player asks for the next page while the first one plays). */
const PAGE_CHARS = 4 * 1024 * 1024;
/** The first page is smaller, so the player shows the first frame sooner. */
const FIRST_PAGE_CHARS = 512 * 1024;

const iso = (ms: number) => new Date(ms).toISOString();


/**
 * ssh.recording.get: an SSH channel's asciicast recording for the console's player, with the terminal
 * snapshots a seek starts from (built once per recording version with @xterm/headless and cached). The
 * file is found through the store's index and must lie under `<data dir>/recordings/`; no path crosses
 * the contract in either direction.
 */
export function recordingCommands(deps: ApiDeps): Handlers<'ssh.recording.get'> {
  const cache = new ReplayCache();
  return {
    'ssh.recording.get': async (input) => {
      const session = deps.store.sessions.get(input.sessionId);
      if (!session) throw notFound('session', input.sessionId);
      if (session.protocol !== 'ssh') throw invalid(`session "${input.sessionId}" is not an SSH session`, [{ path: 'sessionId', message: 'not an SSH session' }]);
      const rows = deps.store.ssh.listRecordings(session.id);
      const channels = rows.map(sshChannelToDto);
      const row = input.channel === undefined ? rows.find((r) => r.file !== null) : rows.find((r) => r.channelId === input.channel);
      if (input.channel !== undefined && !row) throw notFound('channel', String(input.channel));
      if (!row || row.file === null) {
        if (input.channel !== undefined) throw invalid(`channel ${input.channel} has no terminal recording`, [{ path: 'channel', message: 'not playable' }]);
        return { channels, channel: null, header: null, duration: 0, eventCount: 0, fromIndex: 0, nextIndex: null, events: [], snapshots: [] };
      }
      const root = path.resolve(deps.info().dataDir, 'recordings');
      const file = path.resolve(deps.info().dataDir, row.file);
      // The index is ours, but a tampered database must not turn into reading any file on the machine.
      if (!file.startsWith(root + path.sep)) throw new GatehouseError('internal', 'the recording index points outside the recordings folder');
      let idx;
      try {
        idx = await cache.get(file, row.kind === 'exec');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new GatehouseError('not_found', `the recording of channel ${row.channelId} is missing from the data dir`);
        throw err;
      }
      const from = Math.min(input.fromIndex, idx.events.length);
      let end = from;
      let chars = 0;
      const limit = from === 0 ? FIRST_PAGE_CHARS : PAGE_CHARS;
      while (end < idx.events.length && (chars < limit || end === from)) chars += idx.events[end++][2].length;
      const last = idx.events[idx.events.length - 1];
      return {
        channels,
        channel: row.channelId,
        header: { width: idx.header.width, height: idx.header.height, startedAt: iso(row.startedAt), command: idx.header.command ?? null },
        duration: last ? last[0] : 0,
        eventCount: idx.events.length,
        fromIndex: from,
        nextIndex: end < idx.events.length ? end : null,
        events: idx.events.slice(from, end),
        snapshots: idx.snapshots.filter((s) => s.index > from && s.index <= end),
      };
    },
  };
}
