import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { auditEventHash, type ChainedEvent } from '../store/audit-chain';
import { checkpointMessage } from '../recording/audit-verify';
import {
  CHAIN,
  CHECKPOINTS,
  installationIdOf,
  keyFingerprint,
  MANIFEST,
  PACK_FORMAT,
  parseSignatureFile,
  castPath,
  recordingPath,
  REVIEWS,
  SIGNATURE,
  SUMS,
  sumsFile,
  type PackManifest,
} from './pack-format';
import { ZipFile, ZipFormatError, type ZipEntry } from './zip-reader';

export interface PackVerification {
  ok: boolean;
  /** Each problem found, prefixed with the file it is about (`report.html: SHA-256 mismatch ...`). */
  problems: string[];
  /** What was checked, for the `ok:` line. */
  summary: {
    installationId: string | null;
    keyFingerprint: string | null;
    period: { start: string; end: string } | null;
    files: number;
    counts: Record<string, number>;
    auditEvents: number;
    checkpoints: number;
    recordingsSealed: number;
    reviewsSigned: number;
  };
}

/** Small files read whole (manifest, signature, sums); bigger ones only as streams. */
const SMALL_LIMIT = 64 * 1024 * 1024;
/** Entries over this compressed size are checked concurrently with the rest, this many at a time. */
const BIG_ENTRY = 1 << 20;
const PARALLEL_BIG = 2;

/** Turn `--public-key` (base64 SPKI DER, or PEM text) into base64 SPKI DER; throws when it isn't a key. */
export function normalizePublicKey(text: string): string {
  const t = text.trim();
  const key = t.includes('-----BEGIN') ? createPublicKey(t) : createPublicKey({ key: Buffer.from(t, 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the public key is not an Ed25519 key');
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

/**
 * Verify an evidence pack offline: the Ed25519 signature of manifest.json (optionally pinned to an
 * expected key), the SHA-256 of every file against the manifest, no file missing or added, SHA256SUMS
 * consistent with the manifest, the audit chain segment's hash links and its checkpoints' signatures,
 * each sealed recording against the digest chained when its session ended, and the signatures of
 * completed reviews. Every problem is reported with the file it concerns; the pack is streamed, never
 * loaded whole.
 */
export async function verifyEvidencePack(file: string, opts: { publicKey?: string } = {}): Promise<PackVerification> {
  const problems: string[] = [];
  const summary: PackVerification['summary'] = {
    installationId: null,
    keyFingerprint: null,
    period: null,
    files: 0,
    counts: {},
    auditEvents: 0,
    checkpoints: 0,
    recordingsSealed: 0,
    reviewsSigned: 0,
  };
  const done = () => ({ ok: problems.length === 0, problems, summary });

  let zip: ZipFile;
  try {
    zip = await ZipFile.open(file);
  } catch (err) {
    problems.push(`${file}: ${err instanceof ZipFormatError ? err.message : `cannot be read (${(err as Error).message})`}`);
    return done();
  }
  try {
    await check(zip, opts, problems, summary);
  } finally {
    await zip.close();
  }
  return done();
}

async function check(zip: ZipFile, opts: { publicKey?: string }, problems: string[], summary: PackVerification['summary']): Promise<void> {
  const entries = zip.entries;
  const byName = new Map<string, ZipEntry>();
  for (const e of entries) {
    if (byName.has(e.name)) problems.push(`${e.name}: appears more than once in the zip`);
    byName.set(e.name, e);
  }

  // 1. manifest.json and its signature.
  const manifestBytes = await readSmall(zip, byName.get(MANIFEST), MANIFEST, problems);
  const sigBytes = await readSmall(zip, byName.get(SIGNATURE), SIGNATURE, problems);
  if (!manifestBytes || !sigBytes) return;
  const sig = parseSignatureFile(sigBytes.toString('utf8'));
  let packKey: KeyObject | null = null;
  let packKeyB64: string | null = null;
  if (!sig) {
    problems.push(`${SIGNATURE}: not a Gatehouse signature file (damaged or altered)`);
  } else {
    try {
      packKey = createPublicKey({ key: Buffer.from(sig.publicKey, 'base64'), format: 'der', type: 'spki' });
      if (packKey.asymmetricKeyType !== 'ed25519') throw new Error('not Ed25519');
      packKeyB64 = sig.publicKey;
    } catch {
      problems.push(`${SIGNATURE}: the public key is not a valid Ed25519 key`);
    }
    if (packKey && !verifySig(packKey, manifestBytes, sig.signature)) problems.push(`${SIGNATURE}: signature does not verify (manifest.json was changed, or signed by another key)`);
    if (packKeyB64 && opts.publicKey && packKeyB64 !== opts.publicKey) {
      problems.push(`${SIGNATURE}: signed by key ${keyFingerprint(packKeyB64)}, not the expected key ${keyFingerprint(opts.publicKey)}`);
    }
  }
  let manifest: PackManifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as PackManifest;
    if (manifest.format !== PACK_FORMAT || !Array.isArray(manifest.files) || !manifest.audit || !manifest.installation) throw new Error('not a pack manifest');
  } catch (err) {
    problems.push(`${MANIFEST}: unreadable (${(err as Error).message})`);
    return;
  }
  summary.installationId = manifest.installation.id;
  summary.keyFingerprint = packKeyB64 ? keyFingerprint(packKeyB64) : null;
  summary.period = manifest.period;
  summary.counts = manifest.counts;
  if (packKeyB64 && (manifest.installation.publicKeyFingerprint !== keyFingerprint(packKeyB64) || manifest.installation.id !== installationIdOf(packKeyB64))) {
    problems.push(`${SIGNATURE}: signed by key ${keyFingerprint(packKeyB64)}, but the manifest names installation ${manifest.installation.id} (key ${manifest.installation.publicKeyFingerprint})`);
  }

  // 2. The file list: nothing missing, nothing added.
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  for (const f of manifest.files) if (!byName.has(f.path)) problems.push(`${f.path}: listed in the manifest but missing from the pack`);
  for (const e of entries) if (e.name !== MANIFEST && e.name !== SIGNATURE && !listed.has(e.name)) problems.push(`${e.name}: not listed in the manifest (added to the pack)`);
  const expectedSums = sumsFile(manifest.files.filter((f) => f.path !== SUMS));

  // 3. Every listed file's hash, streamed; the chain and its companions parsed on the way. Big entries
  // (statements, the chain) are checked a few at a time alongside the small ones (recordings): their
  // inflating runs in zlib's thread pool while this thread hashes. Problems are reported in zip order.
  const chainProblems: string[] = [];
  const chain = new ChainCheck(manifest, chainProblems);
  const fileHashes = new Map<string, string>();
  const smallText = new Map<string, string>();
  const entryProblems = new Map<ZipEntry, string[]>();
  const checkEntry = async (e: ZipEntry, f: PackManifest['files'][number]): Promise<void> => {
    const out: string[] = [];
    entryProblems.set(e, out);
    const hash = createHash('sha256');
    let bytes = 0;
    const keepText = e.name === SUMS || e.name === CHECKPOINTS || e.name === REVIEWS;
    const parts: Buffer[] = [];
    const lines = e.name === CHAIN ? new LineSplitter((line, n) => chain.event(line, n)) : null;
    try {
      for await (const chunk of zip.read(e)) {
        hash.update(chunk);
        bytes += chunk.length;
        if (keepText && bytes <= SMALL_LIMIT) parts.push(chunk);
        lines?.push(chunk);
      }
      lines?.end();
    } catch (err) {
      if (lines) out.push(...chainProblems.splice(0));
      out.push(`${e.name}: ${err instanceof ZipFormatError ? err.message.replace(`${e.name}: `, '') : 'cannot be decompressed (damaged data)'}`);
      return;
    }
    if (lines) out.push(...chainProblems.splice(0));
    const digest = hash.digest('hex');
    fileHashes.set(e.name, digest);
    if (digest !== f.sha256 || bytes !== f.bytes) out.push(`${e.name}: SHA-256 mismatch (the manifest says ${f.sha256}, the file has ${digest})`);
    if (keepText) smallText.set(e.name, Buffer.concat(parts).toString('utf8'));
  };
  const big: Promise<void>[] = [];
  let running = 0;
  const waiting: (() => void)[] = [];
  for (const e of entries) {
    const f = listed.get(e.name);
    if (!f) continue;
    summary.files++;
    if (e.compressedSize <= BIG_ENTRY) {
      await checkEntry(e, f);
      continue;
    }
    while (running >= PARALLEL_BIG) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    big.push(
      checkEntry(e, f).finally(() => {
        running--;
        waiting.shift()?.();
      }),
    );
  }
  await Promise.all(big);
  for (const e of entries) problems.push(...(entryProblems.get(e) ?? []));
  if (smallText.has(SUMS) && smallText.get(SUMS) !== expectedSums) problems.push(`${SUMS}: does not list exactly the manifest's files and hashes`);
  if (listed.has(CHAIN) && fileHashes.has(CHAIN)) {
    chain.finish();
    problems.push(...chainProblems.splice(0));
  }
  summary.auditEvents = chain.count;

  // 4. Checkpoints: signed by the pack's key, over hashes the segment has.
  const cps = smallText.get(CHECKPOINTS);
  if (cps !== undefined && packKeyB64) {
    jsonLines(cps, CHECKPOINTS, problems, (c: { id: number; eventId: number; eventHash: string; at: number; publicKey: string; signature: string }) => {
      summary.checkpoints++;
      if (c.publicKey !== packKeyB64) return problems.push(`${CHECKPOINTS}: checkpoint ${c.id} was signed by another key than the pack's (${keyFingerprint(String(c.publicKey))})`);
      if (!verifySig(packKey!, Buffer.from(checkpointMessage(c.eventId, c.eventHash, c.at), 'utf8'), c.signature)) return problems.push(`${CHECKPOINTS}: checkpoint ${c.id} signature does not verify`);
      const h = chain.hashes.get(c.eventId);
      if (c.eventId >= manifest.audit.firstEventId && c.eventId <= manifest.audit.lastEventId && h !== c.eventHash) {
        problems.push(`${CHECKPOINTS}: checkpoint ${c.id} signs event ${c.eventId} with a hash that ${CHAIN} does not have`);
      }
    });
  }

  // 5. Recordings against the digests sealed in the chain.
  for (const seal of chain.seals) {
    // Removed later by the retention setting (a chained recording.purged event): no file to check.
    if ((chain.purged.get(seal.sessionId) ?? -1) > seal.eventId) continue;
    const p = seal.channel === undefined ? recordingPath(seal.sessionId) : castPath(seal.sessionId, seal.channel);
    const h = fileHashes.get(p);
    if (h === undefined) continue;
    summary.recordingsSealed++;
    if (h !== seal.digest) problems.push(`${p}: does not match the digest sealed in audit event ${seal.eventId} when the ${seal.channel === undefined ? 'session' : 'channel'} ended`);
  }

  // 6. Completed reviews: their signatures, by the installation's key.
  const reviews = smallText.get(REVIEWS);
  if (reviews !== undefined && packKeyB64) {
    jsonLines(reviews, REVIEWS, problems, (r: { id: string; digest: string | null; signature: string | null; publicKey: string | null; signedBody?: unknown }) => {
      if (!r.signature) return;
      if (r.signedBody !== undefined && (typeof r.signedBody !== 'string' || createHash('sha256').update(r.signedBody).digest('hex') !== r.digest)) {
        problems.push(`${REVIEWS}: review ${r.id}'s signed body does not match its digest`);
      }
      summary.reviewsSigned++;
      if (r.publicKey !== packKeyB64) return problems.push(`${REVIEWS}: review ${r.id} was signed by another key than the pack's`);
      if (!verifySig(packKey!, Buffer.from(String(r.digest), 'utf8'), r.signature)) problems.push(`${REVIEWS}: review ${r.id} signature does not verify`);
    });
  }
}

function verifySig(key: KeyObject, message: Buffer, signatureB64: string): boolean {
  try {
    return verify(null, message, key, Buffer.from(String(signatureB64), 'base64'));
  } catch {
    return false;
  }
}

async function readSmall(zip: ZipFile, entry: ZipEntry | undefined, name: string, problems: string[]): Promise<Buffer | null> {
  if (!entry) {
    problems.push(`${name}: missing from the pack`);
    return null;
  }
  if (entry.size > SMALL_LIMIT) {
    problems.push(`${name}: too large to be a manifest (${entry.size} bytes)`);
    return null;
  }
  try {
    const parts: Buffer[] = [];
    for await (const chunk of zip.read(entry)) parts.push(chunk);
    return Buffer.concat(parts);
  } catch (err) {
    problems.push(`${name}: ${err instanceof ZipFormatError ? err.message.replace(`${name}: `, '') : 'cannot be decompressed (damaged data)'}`);
    return null;
  }
}

function jsonLines<T>(text: string, name: string, problems: string[], each: (v: T) => unknown): void {
  const lines = text.split('\n');
  if (lines.pop() !== '') problems.push(`${name}: the last line is not terminated`);
  lines.forEach((l, i) => {
    let v: T;
    try {
      v = JSON.parse(l) as T;
    } catch {
      problems.push(`${name}: line ${i + 1} is not valid JSON`);
      return;
    }
    each(v);
  });
}

/** Splits a byte stream into UTF-8 lines. */
class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';
  private n = 0;
  constructor(private readonly onLine: (line: string, lineNo: number) => void) {}
  push(chunk: Buffer): void {
    const text = this.rest + this.decoder.write(chunk);
    let start = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
      this.onLine(text.slice(start, i), ++this.n);
      start = i + 1;
    }
    this.rest = text.slice(start);
  }
  end(): void {
    const last = this.rest + this.decoder.end();
    if (last) this.onLine(last, ++this.n);
  }
}

/** Walks audit/chain.jsonl line by line: ids consecutive, each event linked to the one before, hashes right. */
class ChainCheck {
  count = 0;
  readonly hashes = new Map<number, string>();
  /** Recording digests chained when sessions (PostgreSQL) or channels (SSH .cast files) ended. */
  readonly seals: { eventId: number; sessionId: string; digest: string; channel?: number }[] = [];
  /** Session id -> the recording.purged event that removed its recording. */
  readonly purged = new Map<string, number>();
  private prev: string | null;
  private nextId: number;
  private broken = false;

  constructor(
    private readonly manifest: PackManifest,
    private readonly problems: string[],
  ) {
    this.prev = manifest.audit.anchorHash;
    this.nextId = manifest.audit.firstEventId;
  }

  event(line: string, lineNo: number): void {
    if (this.broken) return;
    let e: ChainedEvent;
    try {
      e = JSON.parse(line) as ChainedEvent;
    } catch {
      return this.fail(`line ${lineNo} is not valid JSON`);
    }
    this.count++;
    if (e.id !== this.nextId) return this.fail(`event ${this.nextId} is missing (line ${lineNo} holds event ${e.id})`);
    if (this.prev !== null && e.prevHash !== this.prev) return this.fail(`event ${e.id} does not link to the hash of event ${e.id - 1}`);
    let hash: string;
    try {
      hash = auditEventHash(e.prevHash, e);
    } catch {
      return this.fail(`event ${e.id} is malformed`);
    }
    if (hash !== e.hash) return this.fail(`event ${e.id} hash mismatch (changed after it was recorded)`);
    this.hashes.set(e.id, e.hash);
    if (e.kind === 'session.recorded' && e.sessionId && e.detail && typeof e.detail.digest === 'string') this.seals.push({ eventId: e.id, sessionId: e.sessionId, digest: e.detail.digest });
    if (e.kind === 'recording.purged' && e.sessionId) this.purged.set(e.sessionId, e.id);
    if (e.kind === 'ssh.recorded' && e.sessionId && e.detail && typeof e.detail.sha256 === 'string' && typeof e.detail.channel === 'number') {
      this.seals.push({ eventId: e.id, sessionId: e.sessionId, digest: e.detail.sha256, channel: e.detail.channel });
    }
    this.prev = e.hash;
    this.nextId++;
  }

  finish(): void {
    if (this.broken) return;
    const a = this.manifest.audit;
    if (this.count !== a.events || this.nextId - 1 !== a.lastEventId) this.fail(`holds ${this.count} events, the manifest says ${a.events} (events ${a.firstEventId} to ${a.lastEventId})`);
    else if (this.count > 0 && this.prev !== a.headHash) this.fail(`the last event's hash is not the one the manifest signs`);
  }

  private fail(message: string): void {
    this.broken = true;
    this.problems.push(`${CHAIN}: ${message}`);
  }
}
