import { createHash } from 'node:crypto';
import type { AuditRecord } from './records';

/** The hash that precedes the first event of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level, so the same event always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

/**
 * The hash of one audit event: SHA-256 over the previous event's hash and the event's canonical form
 * (its id included, so deleting or reordering events breaks the chain as surely as editing one).
 */
export function auditEventHash(prevHash: string, e: AuditRecord & { id: number }): string {
  const body = canonicalJson({
    id: e.id,
    at: e.at,
    kind: e.kind,
    actor: e.actor,
    agentName: e.agentName,
    connectionName: e.connectionName,
    sessionId: e.sessionId,
    clientAddress: e.clientAddress,
    detail: e.detail,
  });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

export interface ChainedEvent extends AuditRecord {
  id: number;
  prevHash: string;
  hash: string;
}

export type ChainBreak =
  | { id: number; problem: 'gap'; message: string }
  | { id: number; problem: 'prev_hash'; message: string }
  | { id: number; problem: 'content'; message: string };

/**
 * Walk events in id order and return the first broken link, or null if the chain is intact. `expectedPrev`
 * is the hash the first event must point to (GENESIS_HASH for a whole chain).
 */
export function findChainBreak(events: Iterable<ChainedEvent>, expectedPrev = GENESIS_HASH, firstId = 1): ChainBreak | null {
  let prev = expectedPrev;
  let nextId = firstId;
  for (const e of events) {
    if (e.id !== nextId) return { id: nextId, problem: 'gap', message: `event ${nextId} is missing (next stored event is ${e.id})` };
    if (e.prevHash !== prev) return { id: e.id, problem: 'prev_hash', message: `event ${e.id} does not point to the hash of event ${e.id - 1}` };
    if (auditEventHash(prev, e) !== e.hash) return { id: e.id, problem: 'content', message: `event ${e.id} was changed after it was recorded` };
    prev = e.hash;
    nextId++;
  }
  return null;
}
