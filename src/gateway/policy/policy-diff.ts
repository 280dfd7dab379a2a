import { FILE_HEADERS_ONLY, formatPatch, structuredPatch } from 'diff';

/** The change from one policy file to the next, as kept in the `policy.applied` audit event. */
export interface PolicyChange {
  /** Unified diff of the YAML texts (3 lines of context), cut at `maxPatchChars` characters. */
  patch: string;
  /** Whether `patch` was cut (the full texts are the stored versions). */
  truncated: boolean;
  linesAdded: number;
  linesRemoved: number;
}

/** Largest patch kept in an audit event; a bigger change is still counted and stays in the stored versions. */
export const MAX_PATCH_CHARS = 64 * 1024;

type Version = { version: number; yaml: string };

/** The line diff of two versions, and the lines it adds and removes. */
function lineDiff(before: Version, after: Version) {
  const structured = structuredPatch('policy.yaml', 'policy.yaml', before.yaml, after.yaml, `version ${before.version}`, `version ${after.version}`, { context: 3 });
  let linesAdded = 0;
  let linesRemoved = 0;
  for (const h of structured.hunks) {
    for (const l of h.lines) {
      if (l.startsWith('+')) linesAdded++;
      else if (l.startsWith('-')) linesRemoved++;
    }
  }
  return { structured, linesAdded, linesRemoved };
}

/** How many lines a version adds and removes against the one before (`before.yaml` '' for the first). */
export function policyLineCounts(before: Version, after: Version): { linesAdded: number; linesRemoved: number } {
  const { linesAdded, linesRemoved } = lineDiff(before, after);
  return { linesAdded, linesRemoved };
}

/**
 * The before/after of a policy change: a unified diff of the two YAML texts (`before` is '' for the first
 * version) labelled with their versions, and the counts of added and removed lines.
 */
export function diffPolicies(before: Version, after: Version, maxPatchChars = MAX_PATCH_CHARS): PolicyChange {
  const { structured, linesAdded, linesRemoved } = lineDiff(before, after);
  const full = structured.hunks.length ? formatPatch(structured, FILE_HEADERS_ONLY) : '';
  const truncated = full.length > maxPatchChars;
  return { patch: truncated ? full.slice(0, full.lastIndexOf('\n', maxPatchChars) + 1) : full, truncated, linesAdded, linesRemoved };
}
