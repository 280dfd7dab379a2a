import { createHash } from 'node:crypto';
import type { PackedFile } from './pack-writer';

/**
 * The fixed parts of an evidence pack's format, shared by the exporter and the verifier. Changing any of
 * these changes what old packs verify against: bump PACK_FORMAT when you do.
 */
export const PACK_FORMAT = 'gatehouse-evidence-pack/1';

export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.sig';
export const SUMS = 'SHA256SUMS';
export const CHAIN = 'audit/chain.jsonl';
export const CHECKPOINTS = 'audit/checkpoints.jsonl';
export const REVIEWS = 'reviews.jsonl';
export const REPORT = 'report.html';
export const POLICY = 'policy/policy.yaml';
export const POLICY_VERSIONS = 'policy/versions.jsonl';
export const RECORDINGS_DIR = 'recordings/';

/** The path of a PostgreSQL session's recording (session ids are UUIDs; anything else is hashed to a safe name). */
export function recordingPath(sessionId: string): string {
  const safe = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/.test(sessionId) ? sessionId : createHash('sha256').update(sessionId).digest('hex');
  return `${RECORDINGS_DIR}${safe}.jsonl`;
}

/** The path of an SSH channel's asciicast recording, next to where its session's timeline would be. */
export function castPath(sessionId: string, channel: number): string {
  return `${recordingPath(sessionId).slice(0, -'.jsonl'.length)}-${channel}.cast`;
}

/** SHA-256 (hex) of the installation's public key (SPKI DER): names the key in reports and manifests. */
export function keyFingerprint(publicKeySpkiBase64: string): string {
  return createHash('sha256').update(Buffer.from(publicKeySpkiBase64, 'base64')).digest('hex');
}

/** A stable installation id derived from its signing key: `gh-` and the first 24 hex digits of the fingerprint. */
export function installationIdOf(publicKeySpkiBase64: string): string {
  return `gh-${keyFingerprint(publicKeySpkiBase64).slice(0, 24)}`;
}

/** The public key (base64 SPKI DER) as a PEM block, lines of 64 characters. */
export function publicKeyPem(publicKeySpkiBase64: string): string {
  return `-----BEGIN PUBLIC KEY-----\n${wrap64(publicKeySpkiBase64)}-----END PUBLIC KEY-----\n`;
}

const wrap64 = (b64: string) => (b64.match(/.{1,64}/g) ?? []).map((l) => `${l}\n`).join('');

/**
 * manifest.sig: the public key as a PEM block (so `openssl pkeyutl -pubin -inkey manifest.sig` reads it
 * directly), then the Ed25519 signature of the exact bytes of manifest.json, base64 between marker lines.
 */
export function signatureFile(publicKeySpkiBase64: string, signatureBase64: string): string {
  return `${publicKeyPem(publicKeySpkiBase64)}-----BEGIN ED25519 SIGNATURE-----\n${wrap64(signatureBase64)}-----END ED25519 SIGNATURE-----\n`;
}

/**
 * Parse manifest.sig strictly: it must be exactly what `signatureFile` writes for the key and signature it
 * holds (so no byte of it can change without the check noticing). Returns null when it isn't.
 */
export function parseSignatureFile(text: string): { publicKey: string; signature: string } | null {
  const m = /^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=\n]+)-----END PUBLIC KEY-----\n-----BEGIN ED25519 SIGNATURE-----\n([A-Za-z0-9+/=\n]+)-----END ED25519 SIGNATURE-----\n$/.exec(text);
  if (!m) return null;
  const publicKey = m[1].replace(/\n/g, '');
  const signature = m[2].replace(/\n/g, '');
  // Base64 decoding is lenient; re-encoding tells a canonical value from a tampered one.
  if (Buffer.from(publicKey, 'base64').toString('base64') !== publicKey || Buffer.from(signature, 'base64').toString('base64') !== signature) return null;
  return signatureFile(publicKey, signature) === text ? { publicKey, signature } : null;
}

/** SHA256SUMS in the format `sha256sum -c` reads: `<hex>  <path>` per line. */
export function sumsFile(files: readonly PackedFile[]): string {
  return files.map((f) => `${f.sha256}  ${f.path}\n`).join('');
}

/** The manifest as written into a pack. */
export interface PackManifest {
  format: typeof PACK_FORMAT;
  generator: { name: 'gatehouse'; version: string };
  installation: { id: string; publicKeyFingerprint: string; storeInstallationId: string | null };
  createdAt: string;
  exportId: string;
  period: { start: string; end: string };
  scope: { agents: string[]; connections: string[] };
  /** How each file's rows were chosen, in words (the query parameters are period and scope). */
  query: Record<string, string>;
  counts: Record<string, number>;
  /** Sections whose feature this store doesn't have yet: present in the pack, but empty. */
  emptySections: Record<string, string>;
  /** The policy in force at the period's end (policy/policy.yaml), or null. */
  policy: { version: number; sha256: string; appliedAt: string; appliedBy: string } | null;
  audit: {
    firstEventId: number;
    lastEventId: number;
    events: number;
    checkpoints: number;
    /** Hash of the event before the segment (what the first event's prevHash must be); null when none. */
    anchorHash: string | null;
    /** Hash of the segment's last event. */
    headHash: string | null;
  };
  /** Every other file of the pack (not manifest.json and manifest.sig), in zip order. */
  files: PackedFile[];
}
