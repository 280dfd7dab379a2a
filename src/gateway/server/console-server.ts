import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { commands, ContractError, type ErrorCode } from '../../shared/contract';
import type { EventBus } from '../core/event-bus';
import type { Logger } from '../core/logger';
import { toSafeError } from '../core/errors';
import type { GatewayApi } from '../api/gateway-api';

export interface ConsoleServerOptions {
  api: GatewayApi;
  events: EventBus;
  host: string;
  port: number;
  /** Checks a bearer token; returns the actor it stands for ("admin", "cli") or null. */
  authenticate(token: string): string | null;
  /** The built renderer (out/renderer), served with an SPA fallback; null serves no UI. */
  staticDir: string | null;
  log: Logger;
  /** How long a WebSocket may stay open before its auth message (default 5 s). */
  wsAuthTimeoutMs?: number;
}

export interface ConsoleServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const STATUS: Record<ErrorCode, number> = { invalid: 400, not_found: 404, conflict: 409, unauthorized: 401, unavailable: 503, internal: 500 };
const MAX_BODY = 1024 * 1024;
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

/**
 * The headless console transport: `POST /api/call/<command>` (bearer token), `GET /api/events`
 * (WebSocket; first message authenticates), `GET /api/health`, and the built renderer. The token is
 * required even on loopback: other local users and browser pages must not drive the gateway.
 */
export async function startConsoleServer(opts: ConsoleServerOptions): Promise<ConsoleServer> {
  const { api, log } = opts;
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      log.error('console request failed', { err });
      if (!res.headersSent) sendJson(res, 500, { code: 'internal', message: 'internal error' });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/api/health') return sendJson(res, 200, { ok: true });
    if (url.pathname.startsWith('/api/call/')) {
      if (req.method !== 'POST') return sendJson(res, 405, { code: 'invalid', message: 'use POST' });
      const actor = bearer(req);
      if (!actor) return sendJson(res, 401, { code: 'unauthorized', message: 'a valid admin token is required' });
      const command = safeDecode(url.pathname.slice('/api/call/'.length)) ?? '';
      if (!Object.hasOwn(commands, command)) return sendJson(res, 404, { code: 'not_found', message: `unknown command "${command}"` });
      let input: unknown;
      try {
        input = await readJson(req);
      } catch (err) {
        // The rest of an oversized body is never read: close the connection instead of reusing it.
        res.setHeader('connection', 'close');
        res.on('finish', () => req.destroy());
        return sendJson(res, (err as { status?: number }).status ?? 400, { code: 'invalid', message: (err as Error).message });
      }
      try {
        const out = await api.call(command, input, { actor });
        return sendJson(res, 200, out);
      } catch (err) {
        const e = err instanceof ContractError ? err : toSafeError(err);
        return sendJson(res, STATUS[e.code] ?? 500, e.toBody());
      }
    }
    if (url.pathname.startsWith('/api/')) return sendJson(res, 404, { code: 'not_found', message: 'no such endpoint' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'method not allowed\n');
    return serveStatic(url.pathname, res);
  }

  function bearer(req: http.IncomingMessage): string | null {
    const h = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/.exec(h);
    return m ? opts.authenticate(m[1]) : null;
  }

  function serveStatic(pathname: string, res: http.ServerResponse): void {
    const root = opts.staticDir ? path.resolve(opts.staticDir) : null;
    if (!root || !existsSync(root)) return sendText(res, 404, 'The console UI is not built. Run `npm run build:app`, or use the CLI.\n');
    const decoded = safeDecode(pathname);
    if (decoded === null || decoded.includes('\0')) return sendText(res, 400, 'bad path\n');
    // Normalising the absolute URL path drops every "..", so the result stays under root.
    const rel = path.posix.normalize(decoded).replace(/^\/+/, '');
    let file = path.join(root, rel);
    if (!file.startsWith(root + path.sep) || !isFile(file)) {
      // Client-side routes get the app; a missing asset (it has an extension) is a plain 404, so a browser
      // never runs index.html as a script.
      if (path.posix.extname(rel)) return sendText(res, 404, 'not found\n');
      file = path.join(root, 'index.html');
    }
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    const immutable = file.startsWith(path.join(root, 'assets') + path.sep);
    res.writeHead(200, { 'content-type': type, 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache', ...SECURITY_HEADERS });
    createReadStream(file).pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/api/events') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attachEvents(ws));
  });

  function attachEvents(ws: WebSocket): void {
    let sub: { dispose(): void } | null = null;
    const deadline = setTimeout(() => ws.close(4401, 'authenticate first'), opts.wsAuthTimeoutMs ?? 5000);
    ws.once('message', (data) => {
      clearTimeout(deadline);
      let token: unknown = null;
      try {
        const msg = JSON.parse(String(data)) as { type?: unknown; token?: unknown };
        if (msg.type === 'auth') token = msg.token;
      } catch {
        /* falls through to refusal */
      }
      if (typeof token !== 'string' || !opts.authenticate(token)) {
        ws.close(4401, 'invalid token');
        return;
      }
      ws.send(JSON.stringify({ type: 'ready' }));
      sub = opts.events.onAny((event, payload) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }));
      });
    });
    ws.on('close', () => {
      clearTimeout(deadline);
      sub?.dispose();
    });
    ws.on('error', () => {});
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  log.info('console listening', { url });
  return {
    url,
    port,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
  res.end(text);
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** decodeURIComponent that answers null for malformed escapes instead of throwing. */
function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS });
  res.end(text);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw Object.assign(new Error('request body too large (limit 1 MiB)'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new Error('request body is not valid JSON');
  }
}
