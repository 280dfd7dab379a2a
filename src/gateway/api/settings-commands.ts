import type { SettingsDto } from '../../shared/contract';
import { silentLogger } from '../core/logger';
import { RecordingRetention, RETENTION_SETTING, type PurgeResult } from '../recording/retention';
import type { SettingRecord } from '../store/retention-repo';
import type { ApiDeps, Handlers } from './api-types';

type Names = 'settings.get' | 'settings.update' | 'recordings.purge';

const toDto = (r: SettingRecord<number | null> | undefined): SettingsDto => ({
  recordingRetentionDays: typeof r?.value === 'number' ? r.value : null,
  updatedAt: r ? new Date(r.updatedAt).toISOString() : null,
  updatedBy: r?.updatedBy ?? null,
});

const purgeDto = (r: PurgeResult) => ({ ...r, cutoff: r.cutoff === null ? null : new Date(r.cutoff).toISOString() });

/** settings.*: run-time settings (recording retention), and recordings.purge to apply retention now. */
export function settingsCommands(deps: ApiDeps): Handlers<Names> {
  const { store, audit, events } = deps;
  const now = deps.now ?? Date.now;
  const retention = () => deps.retention ?? new RecordingRetention({ store, audit, dataDir: deps.info().dataDir, log: silentLogger, now });
  return {
    'settings.get': () => toDto(store.retention.setting<number | null>(RETENTION_SETTING)),

    'settings.update': (input, ctx) => {
      const after = input.recordingRetentionDays;
      const before = store.retention.setSetting<number | null>(RETENTION_SETTING, after, now(), ctx.actor);
      const beforeDays = typeof before?.value === 'number' ? before.value : null;
      const dto = toDto(store.retention.setting<number | null>(RETENTION_SETTING));
      if (beforeDays !== after) {
        audit.append({ kind: 'settings.changed', actor: ctx.actor, detail: { setting: 'recordingRetentionDays', before: beforeDays, after } });
        events.emit('settings.changed', dto);
      }
      return dto;
    },

    'recordings.purge': async (input) => purgeDto(await retention().run({ dryRun: input.dryRun })),
  };
}
