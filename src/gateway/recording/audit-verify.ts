import { createHash, createPublicKey, verify } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import type { Signer } from '../identity/signing-key';
import { findChainBreak, type ChainedEvent } from '../store/audit-chain';
import type { AuditCheckpoint, StoreApi } from '../store/store-api';
import { sessionDigest } from './session-digest';

/** The exact bytes a checkpoint signature covers. */
export function checkpointMessage(eventId: number, eventHash: string, at: number): string {
  return `gatehouse-audit-checkpoint\n${eventId}\n${eventHash}\n${at}`;
}

/** Sign the current head of the audit chain (no-op on an empty chain). */
export function signCheckpoint(store: StoreApi, signer: Signer, at: number): AuditCheckpoint | null {
  const head = store.audit.head();
  if (!head) return null;
  const c = { eventId: head.id, eventHash: head.hash, at, publicKey: signer.publicKey, signature: signer.sign(checkpointMessage(head.id, head.hash, at)) };
  store.audit.addCheckpoint(c);
  return { id: 0, ...c };
}

export interface AuditVerification {
  ok: boolean;
  events: number;
  checkpoints: number;
  /** The first problem found, in words, or null. */
  problem: string | null;
  /** The event id where the chain first breaks, if it does. */
  brokenAt: number | null;
}

/** A recording's digest as chained when it ended. */
interface Seal {
  eventId: number;
  sessionId: string;
  digest: string;
  /** For an SSH channel's .cast file: its path relative to the data dir. */
  file?: string;
}

/**
 * Walk the whole audit chain and its checkpoints. Reports the first broken link (an edited, deleted or
 * reordered event), a checkpoint whose signature fails, that points at a hash the chain doesn't have, or
 * that was signed by a key other than `expectedPublicKey`, a finished PostgreSQL session whose recorded
 * statements no longer match the digest chained when it ended, and (given the data dir) an SSH
 * recording file that was edited, truncated or deleted after its channel ended. Recordings removed by
 * the retention setting are skipped: their removal is itself a chained `recording.purged` event.
 */
export function verifyAuditChain(store: StoreApi, expectedPublicKey: string | null, dataDir?: string): AuditVerification {
  const hashes = new Map<number, string>();
  const sealed: Seal[] = [];
  /** Session id -> the event that purged its recordings (retention). */
  const purged = new Map<string, number>();
  let events = 0;
  const counted = (function* (it: Iterable<ChainedEvent>) {
    for (const e of it) {
      events++;
      hashes.set(e.id, e.hash);
      if (e.sessionId) {
        if (e.kind === 'session.recorded') sealed.push({ eventId: e.id, sessionId: e.sessionId, digest: String(e.detail.digest) });
        else if (e.kind === 'ssh.recorded') sealed.push({ eventId: e.id, sessionId: e.sessionId, digest: String(e.detail.sha256), file: String(e.detail.file) });
        else if (e.kind === 'recording.purged') purged.set(e.sessionId, e.id);
      }
      yield e;
    }
  })(store.audit.chain());
  const broken = findChainBreak(counted);
  if (broken) {
    for (const _ of counted) events++;
    return { ok: false, events, checkpoints: 0, problem: broken.message, brokenAt: broken.id };
  }
  const checkpoints = store.audit.checkpoints();
  for (const c of checkpoints) {
    if (expectedPublicKey && c.publicKey !== expectedPublicKey) {
      return { ok: false, events, checkpoints: checkpoints.length, problem: `checkpoint ${c.id} was signed by a different key`, brokenAt: c.eventId };
    }
    let valid = false;
    try {
      const key = createPublicKey({ key: Buffer.from(c.publicKey, 'base64'), format: 'der', type: 'spki' });
      valid = verify(null, Buffer.from(checkpointMessage(c.eventId, c.eventHash, c.at), 'utf8'), key, Buffer.from(c.signature, 'base64'));
    } catch {
      valid = false;
    }
    if (!valid) return { ok: false, events, checkpoints: checkpoints.length, problem: `checkpoint ${c.id} has an invalid signature`, brokenAt: c.eventId };
    if (hashes.get(c.eventId) !== c.eventHash) {
      return { ok: false, events, checkpoints: checkpoints.length, problem: `checkpoint ${c.id} signs event ${c.eventId}, which is no longer in the chain as signed`, brokenAt: c.eventId };
    }
  }
  for (const seal of sealed) {
    const purgedAt = purged.get(seal.sessionId);
    if (purgedAt !== undefined && purgedAt > seal.eventId) continue;
    const problem = seal.file === undefined ? statementsProblem(store, seal) : dataDir ? fileProblem(dataDir, seal) : null;
    if (problem) return { ok: false, events, checkpoints: checkpoints.length, problem, brokenAt: seal.eventId };
  }
  return { ok: true, events, checkpoints: checkpoints.length, problem: null, brokenAt: null };
}

function statementsProblem(store: StoreApi, seal: Seal): string | null {
  if (sessionDigest(store.statements.listBySession(seal.sessionId)) === seal.digest) return null;
  return `the recording of session ${seal.sessionId} was changed after it ended (statements edited, deleted or reordered)`;
}

function fileProblem(dataDir: string, seal: Seal): string | null {
  const rel = seal.file!;
  // A chained path is trusted only inside the data dir.
  const file = path.resolve(dataDir, rel);
  if (path.isAbsolute(rel) || !file.startsWith(path.resolve(dataDir) + path.sep)) return `the recording of session ${seal.sessionId} names a file outside the data dir (${rel})`;
  let digest: string;
  try {
    digest = sha256File(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `the recording file ${rel} of session ${seal.sessionId} was deleted after it ended`
      : `the recording file ${rel} of session ${seal.sessionId} cannot be read (${code ?? (err as Error).message})`;
  }
  if (digest === seal.digest) return null;
  return `the recording file ${rel} of session ${seal.sessionId} was changed after it ended (its SHA-256 no longer matches the chained one)`;
}

/** SHA-256 of a file, read in 1 MiB pieces (recordings can be large). */
function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}
