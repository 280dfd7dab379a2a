import { createPublicKey, verify } from 'node:crypto';
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

/**
 * Walk the whole audit chain and its checkpoints. Reports the first broken link (an edited, deleted or
 * reordered event), a checkpoint whose signature fails, that points at a hash the chain doesn't have, or
 * that was signed by a key other than `expectedPublicKey`, and a finished session whose recorded
 * statements no longer match the digest chained when it ended.
 */
export function verifyAuditChain(store: StoreApi, expectedPublicKey: string | null): AuditVerification {
  const hashes = new Map<number, string>();
  const sealed: { eventId: number; sessionId: string; digest: string }[] = [];
  let events = 0;
  const counted = (function* (it: Iterable<ChainedEvent>) {
    for (const e of it) {
      events++;
      hashes.set(e.id, e.hash);
      if (e.kind === 'session.recorded' && e.sessionId) sealed.push({ eventId: e.id, sessionId: e.sessionId, digest: String(e.detail.digest) });
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
    if (sessionDigest(store.statements.listBySession(seal.sessionId)) !== seal.digest) {
      return {
        ok: false,
        events,
        checkpoints: checkpoints.length,
        problem: `the recording of session ${seal.sessionId} was changed after it ended (statements edited, deleted or reordered)`,
        brokenAt: seal.eventId,
      };
    }
  }
  return { ok: true, events, checkpoints: checkpoints.length, problem: null, brokenAt: null };
}
