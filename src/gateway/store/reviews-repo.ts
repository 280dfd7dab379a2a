import type { Statement } from 'better-sqlite3';
import type { EntitlementEvidence, ReviewCampaignRecord, ReviewItemRecord } from './records';
import type { Db } from './sql-helpers';

const campaignFromRow = (r: Record<string, any>): ReviewCampaignRecord => ({
  id: r.id,
  name: r.name,
  periodStart: r.period_start,
  periodEnd: r.period_end,
  scope: JSON.parse(r.scope),
  createdAt: r.created_at,
  createdBy: r.created_by,
  completedAt: r.completed_at,
  completedBy: r.completed_by,
  digest: r.digest,
  signature: r.signature,
  publicKey: r.public_key,
  signedBody: r.signed_body ?? null,
});

const itemFromRow = (r: Record<string, any>): ReviewItemRecord => ({
  campaignId: r.campaign_id,
  grantId: r.grant_id,
  agentId: r.agent_id,
  agentName: r.agent_name,
  connectionId: r.connection_id,
  connectionName: r.connection_name,
  decision: r.decision,
  newExpiresAt: r.new_expires_at,
  comment: r.comment,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
});

/** Access review campaigns, their entitlements, decisions, and the evidence behind them. */
export class SqliteReviewsRepo {
  private readonly insCampaign: Statement;
  private readonly insItem: Statement;

  constructor(private readonly db: Db) {
    this.insCampaign = db.prepare(
      `INSERT INTO review_campaigns (id, name, period_start, period_end, scope, created_at, created_by)
       VALUES (@id, @name, @periodStart, @periodEnd, @scope, @createdAt, @createdBy)`,
    );
    this.insItem = db.prepare(
      `INSERT INTO review_items (campaign_id, grant_id, agent_id, agent_name, connection_id, connection_name)
       VALUES (@campaignId, @grantId, @agentId, @agentName, @connectionId, @connectionName)`,
    );
  }

  /** Create a campaign with one item per grant that was in force at some point of the period. */
  create(c: ReviewCampaignRecord, filter: { agentId?: string; connectionId?: string; agentTag?: string; connectionTag?: string }): number {
    return this.db.transaction(() => {
      this.insCampaign.run({ ...c, scope: JSON.stringify(c.scope) });
      const grants = this.db
        .prepare(
          `SELECT g.id, g.agent_id, a.name AS agent_name, g.connection_id, c.name AS connection_name
           FROM grants g JOIN agents a ON a.id = g.agent_id JOIN connections c ON c.id = g.connection_id
           WHERE g.created_at <= @end AND (g.revoked_at IS NULL OR g.revoked_at >= @start) AND (g.expires_at IS NULL OR g.expires_at >= @start)
             ${filter.agentId ? 'AND g.agent_id = @agentId' : ''} ${filter.connectionId ? 'AND g.connection_id = @connectionId' : ''}
             ${filter.agentTag ? 'AND EXISTS (SELECT 1 FROM json_each(a.tags) WHERE value = @agentTag)' : ''}
             ${filter.connectionTag ? 'AND EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value = @connectionTag)' : ''}
           ORDER BY a.name, c.name`,
        )
        .all({ start: c.periodStart, end: c.periodEnd, agentId: filter.agentId, connectionId: filter.connectionId, agentTag: filter.agentTag, connectionTag: filter.connectionTag }) as Record<string, string>[];
      for (const g of grants) {
        this.insItem.run({ campaignId: c.id, grantId: g.id, agentId: g.agent_id, agentName: g.agent_name, connectionId: g.connection_id, connectionName: g.connection_name });
      }
      return grants.length;
    })();
  }

  get(id: string): ReviewCampaignRecord | undefined {
    const r = this.db.prepare('SELECT * FROM review_campaigns WHERE id = ?').get(id) as Record<string, any> | undefined;
    return r && campaignFromRow(r);
  }

  list(): ReviewCampaignRecord[] {
    return (this.db.prepare('SELECT * FROM review_campaigns ORDER BY created_at DESC').all() as Record<string, any>[]).map(campaignFromRow);
  }

  items(campaignId: string): ReviewItemRecord[] {
    return (this.db.prepare('SELECT * FROM review_items WHERE campaign_id = ? ORDER BY agent_name, connection_name').all(campaignId) as Record<string, any>[]).map(itemFromRow);
  }

  decide(item: Pick<ReviewItemRecord, 'campaignId' | 'grantId' | 'decision' | 'newExpiresAt' | 'comment' | 'decidedBy' | 'decidedAt'>): void {
    this.db
      .prepare(
        `UPDATE review_items SET decision = @decision, new_expires_at = @newExpiresAt, comment = @comment, decided_by = @decidedBy, decided_at = @decidedAt
         WHERE campaign_id = @campaignId AND grant_id = @grantId`,
      )
      .run(item);
  }

  complete(id: string, fields: { completedAt: number; completedBy: string; digest: string; signature: string; publicKey: string; signedBody?: string }): void {
    this.db
      .prepare(
        'UPDATE review_campaigns SET completed_at = @completedAt, completed_by = @completedBy, digest = @digest, signature = @signature, public_key = @publicKey, signed_body = @signedBody WHERE id = @id',
      )
      .run({ id, ...fields, signedBody: fields.signedBody ?? null });
  }

  /** What an agent did on a connection during [start, end]: the evidence a reviewer decides on. */
  evidence(agentId: string, connectionId: string, agentName: string, connectionName: string, start: number, end: number): EntitlementEvidence {
    const s = this.db
      .prepare('SELECT count(*) AS n, max(started_at) AS last FROM sessions WHERE agent_id = ? AND connection_id = ? AND started_at BETWEEN ? AND ?')
      .get(agentId, connectionId, start, end) as { n: number; last: number | null };
    const byCommand = this.db
      .prepare(
        `SELECT CASE WHEN st.error_code IS NOT NULL THEN 'ERROR' ELSE coalesce(upper(substr(st.command_tag, 1, instr(st.command_tag || ' ', ' ') - 1)), 'OTHER') END AS cmd,
                count(*) AS n
         FROM statements st JOIN sessions se ON se.id = st.session_id
         WHERE se.agent_id = ? AND se.connection_id = ? AND se.started_at BETWEEN ? AND ?
         GROUP BY cmd ORDER BY cmd`,
      )
      .all(agentId, connectionId, start, end) as { cmd: string; n: number }[];
    const denials = this.db
      .prepare(`SELECT count(*) AS n FROM audit_events WHERE kind IN ('auth.failed', 'access.denied') AND agent_name = ? AND connection_name = ? AND at BETWEEN ? AND ?`)
      .get(agentName, connectionName, start, end) as { n: number };
    const policy = this.db
      .prepare(
        `SELECT coalesce(sum(st.policy_action = 'block'), 0) AS blocks, coalesce(sum(st.masked_values), 0) AS masked
         FROM statements st JOIN sessions se ON se.id = st.session_id
         WHERE se.agent_id = ? AND se.connection_id = ? AND se.started_at BETWEEN ? AND ?`,
      )
      .get(agentId, connectionId, start, end) as { blocks: number; masked: number };
    // SSH commands policy blocked are audit events (they have no statement row).
    const sshBlocks = this.db
      .prepare(`SELECT count(*) AS n FROM audit_events WHERE kind = 'command.blocked' AND agent_name = ? AND connection_name = ? AND at BETWEEN ? AND ?`)
      .get(agentName, connectionName, start, end) as { n: number };
    const channels = this.db
      .prepare(
        `SELECT r.kind, count(*) AS n, coalesce(sum(r.masked), 0) AS masked
         FROM ssh_recordings r JOIN sessions se ON se.id = r.session_id
         WHERE se.agent_id = ? AND se.connection_id = ? AND se.started_at BETWEEN ? AND ?
         GROUP BY r.kind ORDER BY r.kind`,
      )
      .all(agentId, connectionId, start, end) as { kind: string; n: number; masked: number }[];
    // Masked values by rule:detector key, from statements and SSH channels (schema 12; older rows have none).
    const maskedKeys = this.db
      .prepare(
        `SELECT j.key AS k, sum(j.value) AS n FROM (
           SELECT st.masked_by AS m FROM statements st JOIN sessions se ON se.id = st.session_id
           WHERE se.agent_id = @agent AND se.connection_id = @connection AND se.started_at BETWEEN @start AND @end AND st.masked_by IS NOT NULL
           UNION ALL
           SELECT r.masked_by FROM ssh_recordings r JOIN sessions se ON se.id = r.session_id
           WHERE se.agent_id = @agent AND se.connection_id = @connection AND se.started_at BETWEEN @start AND @end AND r.masked_by IS NOT NULL
         ), json_each(m) j GROUP BY j.key`,
      )
      .all({ agent: agentId, connection: connectionId, start, end }) as { k: string; n: number }[];
    const maskedByDetector: Record<string, number> = {};
    for (const { k, n } of maskedKeys) {
      const d = detectorOfCountKey(k);
      maskedByDetector[d] = (maskedByDetector[d] ?? 0) + n;
    }
    const approvalsWhere = 'agent_name = ? AND connection_name = ? AND requested_at BETWEEN ? AND ?';
    const approvals = (
      this.db
        .prepare(`SELECT id, statement, rule, status, decided_by, decided_at, reason FROM approvals WHERE ${approvalsWhere} ORDER BY requested_at DESC LIMIT 50`)
        .all(agentName, connectionName, start, end) as Record<string, any>[]
    ).map((r) => ({ id: r.id, statement: r.statement, rule: r.rule, status: r.status, decidedBy: r.decided_by, decidedAt: r.decided_at, reason: r.reason }));
    const approvalCount = (this.db.prepare(`SELECT count(*) AS n FROM approvals WHERE ${approvalsWhere}`).get(agentName, connectionName, start, end) as { n: number }).n;
    const statementsByCommand: Record<string, number> = {};
    let statements = 0;
    for (const r of byCommand) {
      statementsByCommand[r.cmd] = r.n;
      statements += r.n;
    }
    const channelsByKind = Object.fromEntries(channels.map((c) => [c.kind, c.n]));
    const maskedValues = policy.masked + channels.reduce((n, c) => n + c.masked, 0);
    return { sessions: s.n, statements, statementsByCommand, denials: denials.n, lastUsedAt: s.last, blocks: policy.blocks + sshBlocks.n, maskedValues, maskedByDetector, channelsByKind, approvals, approvalCount };
  }

  /**
   * The distinct SQL texts an agent sent on a connection during [start, end] (at most `limit`, most used
   * first), for working out which tables it read and wrote.
   */
  statementTexts(agentId: string, connectionId: string, start: number, end: number, limit: number): string[] {
    return (
      this.db
        .prepare(
          `SELECT st.sql FROM statements st JOIN sessions se ON se.id = st.session_id
           WHERE se.agent_id = ? AND se.connection_id = ? AND se.started_at BETWEEN ? AND ?
           GROUP BY st.sql ORDER BY count(*) DESC LIMIT ?`,
        )
        .all(agentId, connectionId, start, end, limit) as { sql: string }[]
    ).map((r) => r.sql);
  }
}

/**
 * The detector of a masking count key: `<rule>:<detector>` gives the detector (email, payment_card ...);
 * a column rule's `<rule>:column` gives `column:<rule>`.
 */
export function detectorOfCountKey(key: string): string {
  const i = key.lastIndexOf(':');
  if (i < 0) return key;
  const what = key.slice(i + 1);
  return what === 'column' ? `column:${key.slice(0, i)}` : what;
}
