import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { conflict, invalid } from '../core/errors';
import { exportEvidencePack } from '../evidence/evidence-pack';
import { GATEHOUSE_VERSION } from '../version';
import type { ApiDeps, Handlers } from './api-types';

/** Progress events are sent at most this often (and at every change of phase). */
const PROGRESS_EVERY_MS = 100;

/**
 * evidence.export: write a signed evidence pack for a period and scope into `<data dir>/exports/`,
 * publishing `evidence.progress` while it streams (the console's progress bar; the CLI's status line).
 * The chain's head is signed first, and the export itself is an audit event.
 */
export function evidenceCommands(deps: ApiDeps): Handlers<'evidence.export'> {
  const { store, audit, events } = deps;
  const now = deps.now ?? Date.now;
  return {
    'evidence.export': async (input, ctx) => {
      const start = Date.parse(input.periodStart);
      const end = Date.parse(input.periodEnd);
      if (end <= start) throw invalid('the period must end after it starts', [{ path: 'periodEnd', message: 'must be after periodStart' }]);
      if (!deps.signer) throw conflict('no signing key is available to sign the evidence pack');
      const exportId = input.exportId ?? randomUUID();
      const dir = path.join(deps.info().dataDir, 'exports');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      const file = path.join(dir, `evidence-${day(start)}-${day(end)}-${exportId}.zip`);
      // Sign the chain's head now, so a period that reaches the present ends on a signed checkpoint.
      audit.checkpoint();
      let lastPhase = '';
      let lastAt = 0;
      const result = await exportEvidencePack({
        evidence: store.evidence,
        signer: deps.signer,
        file,
        scope: { start, end, agents: input.agents, connections: input.connections },
        exportId,
        version: GATEHOUSE_VERSION,
        storeInstallationId: store.meta.get('installation_id') ?? null,
        dataDir: deps.info().dataDir,
        now,
        onProgress: (p) => {
          const t = Date.now();
          if (p.phase === lastPhase && t - lastAt < PROGRESS_EVERY_MS && p.done < p.total) return;
          lastPhase = p.phase;
          lastAt = t;
          if (events.hasListeners('evidence.progress')) events.emit('evidence.progress', { exportId, ...p });
        },
      });
      const m = result.manifest;
      audit.append({
        kind: 'evidence.exported',
        actor: ctx.actor,
        detail: { exportId, file: path.basename(file), bytes: result.bytes, manifestSha256: result.manifestSha256, period: [m.period.start, m.period.end], scope: m.scope, counts: m.counts },
      });
      return {
        exportId,
        path: file,
        bytes: result.bytes,
        manifestSha256: result.manifestSha256,
        installationId: m.installation.id,
        publicKeyFingerprint: m.installation.publicKeyFingerprint,
        period: m.period,
        scope: m.scope,
        counts: m.counts,
        files: m.files.length + 2,
        emptySections: m.emptySections,
      };
    },
  };
}
