import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appFrameMatcher } from '../../src/main/app-frame';
import { cspHeader, cspMeta } from '../../src/main/content-security-policy';
import { checkContractCall, isContractEvent } from '../../src/main/contract-call';
import { checkExternalUrl } from '../../src/main/external-url';

// The desktop shell's security decisions, which are plain functions so they can be tested without the
// Electron binary: which frames may call the contract, which calls pass, which links may leave the app.

describe('app frame check (IPC sender and navigation)', () => {
  const rendererFile = path.resolve('/opt/gatehouse/out/renderer/index.html');
  const isApp = appFrameMatcher({ rendererFile });
  const page = pathToFileURL(rendererFile).href;

  it('accepts the built console page, with any hash or query', () => {
    expect(isApp(page)).toBe(true);
    expect(isApp(`${page}#/sessions/abc`)).toBe(true);
    expect(isApp(`${page}?x=1#/sessions`)).toBe(true);
  });

  it('rejects other files, other schemes and garbage', () => {
    expect(isApp(pathToFileURL('/opt/gatehouse/out/renderer/other.html').href)).toBe(false);
    expect(isApp(pathToFileURL('/tmp/index.html').href)).toBe(false);
    expect(isApp('file://evil.example/opt/gatehouse/out/renderer/index.html')).toBe(false);
    expect(isApp('https://example.com/')).toBe(false);
    expect(isApp('about:blank')).toBe(false);
    expect(isApp('')).toBe(false);
    expect(isApp('not a url')).toBe(false);
  });

  it('in dev, accepts exactly the dev server origin', () => {
    const dev = appFrameMatcher({ rendererFile, devServerUrl: 'http://localhost:5173' });
    expect(dev('http://localhost:5173/#/sessions')).toBe(true);
    expect(dev('http://localhost:51730/')).toBe(false);
    expect(dev('http://localhost:5173.evil.example/')).toBe(false);
    expect(dev(page)).toBe(false);
  });
});

describe('contract calls over IPC', () => {
  it('passes a known command with valid input, with schema defaults applied', () => {
    expect(checkContractCall('sessions.list', { limit: 5 })).toEqual({ ok: true, command: 'sessions.list', input: { limit: 5, activeOnly: false } });
    expect(checkContractCall('sessions.list', undefined)).toMatchObject({ ok: true, input: { limit: 100 } });
  });

  it('refuses names outside the contract, including prototype keys', () => {
    for (const name of ['shell.exec', '__proto__', 'constructor', 'toString', '', 42, null]) {
      expect(checkContractCall(name, {})).toMatchObject({ ok: false, error: { code: 'not_found' } });
    }
  });

  it('refuses input that fails the schema, naming the field', () => {
    const r = checkContractCall('sessions.list', { limit: 'all' });
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid', message: 'invalid input for sessions.list' } });
    expect(!r.ok && r.error.issues?.map((i) => i.path)).toEqual(['limit']);
    expect(checkContractCall('sessions.get', { id: 'a', extra: true })).toMatchObject({ ok: false, error: { code: 'invalid' } });
  });

  it('forwards only contract events to the window', () => {
    expect(isContractEvent('session.started')).toBe(true);
    expect(isContractEvent('app.navigate')).toBe(false);
    expect(isContractEvent('hasOwnProperty')).toBe(false);
    expect(isContractEvent(undefined)).toBe(false);
  });
});

describe('external links', () => {
  it('lets https out, normalised', () => {
    expect(checkExternalUrl('https://example.com/docs?q=1')).toBe('https://example.com/docs?q=1');
    expect(checkExternalUrl('HTTPS://Example.com')).toBe('https://example.com/');
  });

  it('drops every other scheme, credentials in the URL and garbage', () => {
    for (const url of ['http://example.com', 'file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'ms-settings:', 'https://user:pw@example.com/', 'https://', '//example.com', 'example.com']) {
      expect(checkExternalUrl(url)).toBeNull();
    }
  });
});

describe('content security policy', () => {
  it('allows only the app itself to run scripts and connect', () => {
    const csp = cspHeader();
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*(unsafe-inline|unsafe-eval)/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('leaves frame-ancestors out of the <meta> form, where browsers ignore it', () => {
    expect(cspMeta()).not.toContain('frame-ancestors');
    expect(cspMeta()).toContain("script-src 'self'");
  });
});
