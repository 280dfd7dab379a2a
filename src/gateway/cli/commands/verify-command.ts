import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { normalizePublicKey, verifyEvidencePack } from '../../evidence/pack-verify';
import { CliError, printJson } from '../cli-io';

/** `gatehouse verify FILE.zip`: check an evidence pack offline (no data dir, no server). */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify <file>')
    .description('verify an evidence pack offline: signature, every file hash, no file missing or added, audit chain and checkpoints')
    .option('--public-key <key>', 'the installation public key to expect: base64 SPKI, PEM text, or a PEM file')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { publicKey?: string; json?: boolean }) => {
      if (!existsSync(file)) throw new CliError(`${file} does not exist`, 2);
      let publicKey: string | undefined;
      if (o.publicKey) {
        try {
          publicKey = normalizePublicKey(existsSync(o.publicKey) ? readFileSync(o.publicKey, 'utf8') : o.publicKey);
        } catch {
          throw new CliError('--public-key is not an Ed25519 public key (base64 SPKI, PEM text or a PEM file)', 2);
        }
      }
      const r = await verifyEvidencePack(file, { publicKey });
      if (o.json) printJson(r);
      if (!r.ok) {
        if (!o.json) for (const p of r.problems) process.stderr.write(`FAIL ${p}\n`);
        throw new CliError(`${file} does not verify: ${r.problems.length} problem(s)`);
      }
      if (o.json) return;
      const s = r.summary;
      process.stdout.write(
        `ok: ${file} signed by installation ${s.installationId} (key sha256 ${s.keyFingerprint}${publicKey ? ', as expected' : ''}); ` +
          `${s.files} files match the manifest; period ${s.period?.start} .. ${s.period?.end}; ` +
          `${s.counts.sessions ?? 0} sessions, ${s.counts.statements ?? 0} statements; ${s.auditEvents} audit events chained, ${s.checkpoints} checkpoint(s) valid, ` +
          `${s.recordingsSealed} recording(s) match their sealed digests, ${s.reviewsSigned} signed review(s) valid\n`,
      );
    });
}
