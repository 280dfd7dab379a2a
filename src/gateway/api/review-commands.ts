import { createHash, randomUUID } from 'node:crypto';
import type { ReviewDto, ReviewItemDto } from '../../shared/contract';
import { grantToDto } from '../core/dto';
import { conflict, invalid, notFound } from '../core/errors';
import { keyFingerprint } from '../evidence/pack-format';
import { LruCache } from '../policy/lru-cache';
import { loadSqlParser } from '../policy/sql-parser';
import { canonicalJson } from '../store/audit-chain';
import type { ReviewCampaignRecord, ReviewItemRecord } from '../store/records';
import type { ApiDeps, Handlers } from './api-types';
import { tablesTouched } from './tables-touched';

type Names = 'reviews.list' | 'reviews.start' | 'reviews.get' | 'reviews.decide' | 'reviews.complete';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * How many distinct SQL texts per entitlement are parsed for the tables it touched (the most used first).
 * Parsing shares the policy's parse cache with live sessions, so this stays well below its size.
 */
const TABLE_TEXTS_LIMIT = 500;

/**
 * reviews.*: access review campaigns. A campaign covers a period and a scope; each grant in force during
 * the period is an entitlement to decide on (keep, revoke, change expiry) with the evidence of what the
 * agent did. Revocations take effect on the gateway at once; completion is signed.
 */
export function reviewCommands(deps: ApiDeps): Handlers<Names> {
  const { store, audit, events } = deps;
  const now = deps.now ?? Date.now;

  // Tables per entitlement and period, kept while its statement count is unchanged (statements are only
  // ever added), so a review page that reloads does not parse the same texts again.
  const tablesMemo = new LruCache<string, { statements: number; tables: { tablesRead: string[]; tablesWritten: string[]; tablesPartial?: true } }>(2000);
  const tablesOf = (c: ReviewCampaignRecord, i: ReviewItemRecord, statements: number) => {
    const key = `${i.agentId}\0${i.connectionId}\0${c.periodStart}\0${c.periodEnd}`;
    const hit = tablesMemo.get(key);
    if (hit && hit.statements === statements) return hit.tables;
    const texts = statements === 0 ? [] : store.reviews.statementTexts(i.agentId, i.connectionId, c.periodStart, c.periodEnd, TABLE_TEXTS_LIMIT + 1);
    // More distinct texts than parsed: the lists come from the most used ones, and say so.
    const tables = { ...tablesTouched(texts.slice(0, TABLE_TEXTS_LIMIT)), ...(texts.length > TABLE_TEXTS_LIMIT ? { tablesPartial: true as const } : {}) };
    tablesMemo.set(key, { statements, tables });
    return tables;
  };

  const campaign = (id: string) => store.reviews.get(id) ?? (() => { throw notFound('review', id); })();

  /** The grant's state now (a review item shows it next to the decision). */
  const grantState = (grantId: string): Pick<ReviewItemDto, 'grantStatus' | 'grantExpiresAt'> => {
    const g = store.grants.get(grantId);
    const grantStatus = !g ? null : g.revokedAt !== null ? 'revoked' : g.expiresAt !== null && g.expiresAt <= now() ? 'expired' : 'active';
    return { grantStatus, grantExpiresAt: iso(g?.expiresAt ?? null) };
  };

  const itemDto = (c: ReviewCampaignRecord, i: ReviewItemRecord): ReviewItemDto => {
    const e = store.reviews.evidence(i.agentId, i.connectionId, i.agentName, i.connectionName, c.periodStart, c.periodEnd);
    return {
      grantId: i.grantId,
      agentName: i.agentName,
      connectionName: i.connectionName,
      ...grantState(i.grantId),
      evidence: { ...e, lastUsedAt: iso(e.lastUsedAt), unused: e.sessions === 0, approvals: e.approvals.map((a) => ({ ...a, decidedAt: iso(a.decidedAt) })) },
      decision: i.decision,
      newExpiresAt: iso(i.newExpiresAt),
      comment: i.comment,
      decidedBy: i.decidedBy,
      decidedAt: iso(i.decidedAt),
    };
  };

  const reviewDto = (c: ReviewCampaignRecord): ReviewDto => {
    const items = store.reviews.items(c.id);
    return {
      id: c.id,
      name: c.name,
      periodStart: iso(c.periodStart)!,
      periodEnd: iso(c.periodEnd)!,
      scope: c.scope,
      createdAt: iso(c.createdAt)!,
      createdBy: c.createdBy,
      completedAt: iso(c.completedAt),
      completedBy: c.completedBy,
      digest: c.digest,
      signature: c.signature,
      publicKey: c.publicKey,
      keyFingerprint: c.publicKey ? keyFingerprint(c.publicKey) : null,
      progress: { decided: items.filter((i) => i.decision !== null).length, total: items.length },
      evidenceAsSigned: Boolean(c.signedBody),
    };
  };

  /** An item with the evidence computed now, the tables touched included. */
  const liveItem = (c: ReviewCampaignRecord, i: ReviewItemRecord): ReviewItemDto => {
    const dto = itemDto(c, i);
    return { ...dto, evidence: { ...dto.evidence, ...tablesOf(c, i, dto.evidence.statements) } };
  };

  return {
    'reviews.list': () => store.reviews.list().map(reviewDto),

    'reviews.start': (input, ctx) => {
      const periodStart = Date.parse(input.periodStart);
      const periodEnd = Date.parse(input.periodEnd);
      if (periodEnd <= periodStart) throw invalid('the period must end after it starts', [{ path: 'periodEnd', message: 'must be after periodStart' }]);
      const agent = input.agent ? (store.agents.getByName(input.agent) ?? (() => { throw notFound('agent', input.agent!); })()) : undefined;
      const connection = input.connection ? (store.connections.getByName(input.connection) ?? (() => { throw notFound('connection', input.connection!); })()) : undefined;
      const rec: ReviewCampaignRecord = {
        id: randomUUID(),
        name: input.name,
        periodStart,
        periodEnd,
        scope: {
          ...(input.agent ? { agent: input.agent } : {}),
          ...(input.connection ? { connection: input.connection } : {}),
          ...(input.agentTag ? { agentTag: input.agentTag } : {}),
          ...(input.connectionTag ? { connectionTag: input.connectionTag } : {}),
        },
        createdAt: now(),
        createdBy: ctx.actor,
        completedAt: null,
        completedBy: null,
        digest: null,
        signature: null,
        publicKey: null,
      };
      const entitlements = store.reviews.create(rec, { agentId: agent?.id, connectionId: connection?.id, agentTag: input.agentTag, connectionTag: input.connectionTag });
      audit.append({ kind: 'review.started', actor: ctx.actor, detail: { reviewId: rec.id, name: rec.name, period: [input.periodStart, input.periodEnd], scope: rec.scope, entitlements } });
      const dto = reviewDto(rec);
      events.emit('review.changed', { review: dto, item: null });
      return dto;
    },

    'reviews.get': async (input) => {
      const c = campaign(input.id);
      await loadSqlParser();
      // A completed review shows what was signed: the evidence as the reviewer saw it (retention or late
      // activity can't change it afterwards); only the grants' current state is read now.
      if (c.signedBody) {
        const signed = JSON.parse(c.signedBody) as { items: Omit<ReviewItemDto, 'grantStatus' | 'grantExpiresAt'>[] };
        return { review: reviewDto(c), items: signed.items.map((it) => ({ ...it, ...grantState(it.grantId) })) };
      }
      return { review: reviewDto(c), items: store.reviews.items(c.id).map((i) => liveItem(c, i)) };
    },

    'reviews.decide': (input, ctx) => {
      const c = campaign(input.id);
      if (c.completedAt !== null) throw conflict('this review is complete; its decisions can no longer change');
      const item = store.reviews.items(c.id).find((i) => i.grantId === input.grantId);
      if (!item) throw notFound('entitlement in this review', input.grantId);
      if (input.decision === 'expiry' && !input.expiresInSeconds) throw invalid('an expiry decision needs expiresInSeconds', [{ path: 'expiresInSeconds', message: 'required for expiry' }]);
      const t = now();
      const newExpiresAt = input.decision === 'expiry' ? t + input.expiresInSeconds! * 1000 : null;
      let sessionsClosed = 0;
      // Enforce on the gateway at once.
      if (input.decision === 'revoke') {
        if (store.grants.revoke(item.grantId, t) && !store.grants.findActive(item.agentId, item.connectionId, t)) {
          sessionsClosed = deps.runtime.closeSessions({ agentId: item.agentId, connectionId: item.connectionId }, 'grant_revoked');
        }
      } else if (input.decision === 'expiry') {
        store.grants.setExpiry(item.grantId, newExpiresAt);
      }
      const grant = input.decision === 'keep' ? undefined : store.grants.get(item.grantId);
      if (grant) events.emit('grant.changed', grantToDto(grant, t));
      store.reviews.decide({ campaignId: c.id, grantId: item.grantId, decision: input.decision, newExpiresAt, comment: input.comment ?? null, decidedBy: ctx.actor, decidedAt: t });
      audit.append({
        kind: 'review.decided',
        actor: ctx.actor,
        agentName: item.agentName,
        connectionName: item.connectionName,
        detail: { reviewId: c.id, grantId: item.grantId, decision: input.decision, newExpiresAt: iso(newExpiresAt), comment: input.comment ?? null, sessionsClosed },
      });
      const decided = itemDto(c, store.reviews.items(c.id).find((i) => i.grantId === item.grantId)!);
      events.emit('review.changed', { review: reviewDto(c), item: decided });
      return decided;
    },

    'reviews.complete': async (input, ctx) => {
      // Before any check: nothing may await between checking and completing (two completes at once).
      await loadSqlParser();
      const c = campaign(input.id);
      if (c.completedAt !== null) throw conflict('this review is already complete');
      const items = store.reviews.items(c.id);
      const open = items.filter((i) => i.decision === null);
      if (open.length) throw conflict(`${open.length} entitlement(s) still need a decision`);
      if (!deps.signer) throw conflict('no signing key is available to sign the review');
      const completedAt = now();
      const body = {
        review: { id: c.id, name: c.name, periodStart: c.periodStart, periodEnd: c.periodEnd, scope: c.scope, createdAt: c.createdAt, createdBy: c.createdBy, completedAt, completedBy: ctx.actor },
        items: items.map((i) => liveItem(c, i)).map(({ grantStatus: _s, grantExpiresAt: _e, ...rest }) => rest),
      };
      // The exact bytes hashed are kept with the review, so anyone can re-check the digest later.
      const signedBody = canonicalJson(body);
      const digest = createHash('sha256').update(signedBody).digest('hex');
      store.reviews.complete(c.id, { completedAt, completedBy: ctx.actor, digest, signature: deps.signer.sign(digest), publicKey: deps.signer.publicKey, signedBody });
      audit.append({ kind: 'review.completed', actor: ctx.actor, detail: { reviewId: c.id, digest, entitlements: items.length } });
      const dto = reviewDto(campaign(c.id));
      events.emit('review.changed', { review: dto, item: null });
      return dto;
    },
  };
}
