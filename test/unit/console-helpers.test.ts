import { describe, expect, it } from 'vitest';
import { ContractError, type ApprovalDto, type ConnectionTestResult, type GrantDto, type ServerInfoDto, type SessionDto, type StatementDto } from '../../src/shared/contract';
import { agentSnippets, dialHost } from '../../src/renderer/src/screens/agents/agent-snippets';
import { grantStatusAt, mergeGrant } from '../../src/renderer/src/screens/agents/grant-list';
import { stageStates } from '../../src/renderer/src/screens/connections/connection-stages';
import { formErrors, parseTags } from '../../src/renderer/src/form-helpers';

// Pure helpers of the connections and agents screens.

const info = (over: Partial<ServerInfoDto['listeners']> = {}): ServerInfoDto => ({
  version: '0.1.0',
  dataDir: '/d',
  installationId: 'i',
  listeners: { postgres: { host: '127.0.0.1', port: 6432 }, console: { host: '127.0.0.1', port: 7070 }, ssh: { host: '0.0.0.0', port: 2222 }, ...over },
  tlsFingerprint: 'AB:CD',
  sshHostKeyFingerprint: 'SHA256:xyz',
});

describe('agent snippets', () => {
  it('gives psql, env and URL snippets for a postgres connection that name the agent, secret and connection', () => {
    const s = agentSnippets({ info: info(), consoleHost: 'gw.local', agent: 'report-bot', secret: 'ghs_abc', connection: { name: 'shop', kind: 'postgres' } });
    expect(s.map((x) => x.id)).toEqual(['psql', 'env', 'url']);
    expect(s[0].text).toBe('psql "host=127.0.0.1 port=6432 dbname=shop user=report-bot password=ghs_abc sslmode=require"');
    expect(s[1].text.split('\n')).toEqual([
      'export PGHOST=127.0.0.1',
      'export PGPORT=6432',
      'export PGDATABASE=shop',
      'export PGUSER=report-bot',
      'export PGPASSWORD=ghs_abc',
      'export PGSSLMODE=require',
    ]);
    expect(s[2].text).toBe('postgresql://report-bot:ghs_abc@127.0.0.1:6432/shop?sslmode=require');
  });

  it('gives an ssh snippet for an ssh connection, dialing the console host when ssh listens everywhere', () => {
    const s = agentSnippets({ info: info(), consoleHost: 'gw.local', agent: 'ops', secret: 'x', connection: { name: 'web1', kind: 'ssh' } });
    expect(s.map((x) => x.id)).toEqual(['ssh']);
    expect(s[0].text).toBe('ssh -p 2222 -l ops@web1 gw.local');
    expect(s[0].label).toContain('SHA256:xyz');
  });

  it('quotes values that a shell or libpq would split', () => {
    const s = agentSnippets({ info: info(), consoleHost: 'h', agent: 'a', secret: "it's x", connection: { name: 'shop', kind: 'postgres' } });
    expect(s[0].text).toContain("password='it\\'s x'");
    expect(s[1].text).toContain(`PGPASSWORD='it'\\''s x'`);
    expect(s[2].text).toContain('a:it\'s%20x@');
  });

  it('dials the listener host unless it listens on every interface', () => {
    expect(dialHost('10.0.0.5', 'console')).toBe('10.0.0.5');
    expect(dialHost('0.0.0.0', 'console')).toBe('console');
    expect(dialHost('::', '')).toBe('127.0.0.1');
  });
});

describe('form helpers', () => {
  it('splits tags on commas and spaces, without empties or duplicates', () => {
    expect(parseTags(' prod, pci  ai,,prod ')).toEqual(['prod', 'pci', 'ai']);
    expect(parseTags('')).toEqual([]);
  });
  it('maps contract issues to fields', () => {
    const e = formErrors(new ContractError('invalid', 'invalid input', [{ path: 'port', message: 'too big' }, { path: 'tags.0', message: 'too long' }, { path: 'port', message: 'second' }]));
    expect(e).toEqual({ message: 'invalid input', fields: { port: 'too big', tags: 'too long' } });
    expect(formErrors(new Error('down'))).toEqual({ message: 'down', fields: {} });
  });
});

describe('connection test stages', () => {
  const result = (ok: boolean, stage: ConnectionTestResult['stage']): ConnectionTestResult => ({ ok, stage, message: '', serverVersion: null, elapsedMs: 1 });
  it('marks the stages before the failing one passed and the rest not reached', () => {
    expect(stageStates(result(false, 'tls')).map((s) => s.state)).toEqual(['passed', 'passed', 'failed', 'not_reached', 'not_reached']);
    expect(stageStates(result(false, 'dns'))[0].state).toBe('failed');
    expect(stageStates(result(true, 'ok')).every((s) => s.state === 'passed')).toBe(true);
  });
});

describe('grants', () => {
  const g = (id: string, over: Partial<GrantDto> = {}): GrantDto => ({
    id,
    agentId: 'a',
    agentName: 'bot',
    connectionId: 'c',
    connectionName: 'shop',
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T02:00:00.000Z',
    revokedAt: null,
    status: 'active',
    ...over,
  });
  it('merges a changed grant by id, new ones on top', () => {
    expect(mergeGrant([g('1'), g('2')], g('2', { status: 'revoked' })).map((x) => x.status)).toEqual(['active', 'revoked']);
    expect(mergeGrant([g('1')], g('3')).map((x) => x.id)).toEqual(['3', '1']);
  });
  it('shows an active grant as expired once its expiry passed', () => {
    expect(grantStatusAt(g('1'), Date.parse('2026-01-01T01:59:59Z'))).toBe('active');
    expect(grantStatusAt(g('1'), Date.parse('2026-01-01T02:00:00Z'))).toBe('expired');
    expect(grantStatusAt(g('1', { expiresAt: null }), Date.parse('2030-01-01T00:00:00Z'))).toBe('active');
    expect(grantStatusAt(g('1', { status: 'revoked' }), 0)).toBe('revoked');
  });
});

describe('policy editor positions', () => {
  it('turns a 1-based line and column into an offset, clamped to the line and the text', async () => {
    const { offsetOf, policyFileName } = await import('../../src/renderer/src/screens/policy/text-position');
    const text = 'version: 1\nrules:\n  - name: x\n';
    expect(offsetOf(text, 1, 1)).toBe(0);
    expect(offsetOf(text, 2, 1)).toBe(11);
    expect(text.slice(offsetOf(text, 3, 5))).toBe('name: x\n');
    expect(offsetOf(text, 2, 99)).toBe(17);
    expect(offsetOf(text, 99, 1)).toBe(text.length);
    expect(policyFileName(3)).toBe('gatehouse-policy-v3.yaml');
  });
});

describe('overview activity', () => {
  it('counts sessions and their statements per hour by agent, newest hour first, empty hours kept', async () => {
    const { activityByHour } = await import('../../src/renderer/src/screens/overview/activity');
    const base = { protocol: 'postgres' as const, connectionName: 'shop', clientAddress: '', tls: true, endedAt: null, bytesIn: 0, bytesOut: 0, endReason: null };
    const s = (id: string, agentName: string, startedAt: string, statementCount: number) => ({ ...base, id, agentName, startedAt, statementCount });
    const now = Date.parse('2026-01-01T12:30:00Z');
    const r = activityByHour(
      [s('1', 'b', '2026-01-01T12:05:00Z', 3), s('2', 'a', '2026-01-01T12:10:00Z', 2), s('3', 'a', '2026-01-01T10:59:59Z', 7), s('4', 'a', '2026-01-01T09:59:59Z', 100), s('5', 'a', '2026-01-01T13:00:00Z', 1)],
      now,
      3,
    );
    expect(r.agents).toEqual(['a', 'b']);
    expect(r.rows.map((x) => new Date(x.hourStart).toISOString())).toEqual(['2026-01-01T12:00:00.000Z', '2026-01-01T11:00:00.000Z', '2026-01-01T10:00:00.000Z']);
    expect(r.rows[0]).toMatchObject({ sessions: 2, statements: 5, byAgent: { a: { sessions: 1, statements: 2 }, b: { sessions: 1, statements: 3 } } });
    expect(r.rows[1]).toMatchObject({ sessions: 0, statements: 0, byAgent: {} });
    expect(r.rows[2]).toMatchObject({ sessions: 1, statements: 7 });
  });
});

describe('session page and filters', () => {
  const st = (over: Partial<StatementDto> = {}): StatementDto => ({
    id: 1,
    sessionId: 's',
    seq: 1,
    protocol: 'simple',
    sql: 'select 1',
    paramCount: 0,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1,
    commandTag: 'SELECT 1',
    rows: 1,
    errorCode: null,
    policyAction: null,
    policyRule: null,
    approvalId: null,
    maskedValues: null,
    resultPreview: null,
    ...over,
  });
  const ap = (status: ApprovalDto['status']) => ({ status }) as ApprovalDto;

  it('badges a statement by what policy, the approver, the masker and the database did', async () => {
    const { statementDecision } = await import('../../src/renderer/src/screens/sessions/statement-view');
    expect(statementDecision(st(), undefined)).toBe('allowed');
    expect(statementDecision(st({ policyAction: 'block', errorCode: '42501' }), undefined)).toBe('blocked');
    expect(statementDecision(st({ policyAction: 'approve', approvalId: 'a' }), ap('approved'))).toBe('approved');
    expect(statementDecision(st({ policyAction: 'approve', approvalId: 'a', errorCode: '42501' }), ap('denied'))).toBe('denied');
    expect(statementDecision(st({ policyAction: 'approve', approvalId: 'a', errorCode: '57014' }), ap('timed_out'))).toBe('denied');
    expect(statementDecision(st({ policyAction: 'approve', approvalId: 'a' }), ap('pending'))).toBe('held');
    expect(statementDecision(st({ policyAction: 'approve', approvalId: 'a', errorCode: '42501' }), undefined)).toBe('denied');
    expect(statementDecision(st({ maskedValues: 2 }), undefined)).toBe('masked');
    expect(statementDecision(st({ maskedValues: 0, errorCode: '42P01' }), undefined)).toBe('error');
  });

  it('reads result previews and rejects anything else', async () => {
    const { parsePreview } = await import('../../src/renderer/src/screens/sessions/statement-view');
    expect(parsePreview('{"columns":["email","n"],"rows":[["a***@x.com",null],["b",2]]}')).toEqual({
      columns: ['email', 'n'],
      rows: [
        ['a***@x.com', null],
        ['b', '2'],
      ],
      truncated: false,
    });
    expect(parsePreview('{"columns":["a"],"rows":[],"truncated":true}')?.truncated).toBe(true);
    for (const bad of [null, '', 'not json', '{"columns":1,"rows":[]}', '[]']) expect(parsePreview(bad)).toBeNull();
  });

  it('sends only the filters that are set and decides live sessions it can', async () => {
    const { NO_FILTER, filterInput, sessionMatches } = await import('../../src/renderer/src/screens/sessions/session-filter');
    expect(filterInput(NO_FILTER)).toEqual({});
    expect(filterInput({ agent: 'a', connection: '', decision: 'held', text: '  users ' })).toEqual({ agent: 'a', decision: 'held', text: 'users' });
    const s = { agentName: 'a', connectionName: 'shop' } as SessionDto;
    expect(sessionMatches(NO_FILTER, s)).toBe('yes');
    expect(sessionMatches({ ...NO_FILTER, agent: 'b' }, s)).toBe('no');
    expect(sessionMatches({ ...NO_FILTER, connection: 'shop' }, s)).toBe('yes');
    expect(sessionMatches({ ...NO_FILTER, agent: 'a', text: 'x' }, s)).toBe('unknown');
    expect(sessionMatches({ ...NO_FILTER, agent: 'b', decision: 'masked' }, s)).toBe('no');
  });
});
