/** The character offset of a 1-based line and column in a text (clamped to the text), for the editor's "go to error". */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  const end = text.indexOf('\n', offset);
  const lineEnd = end < 0 ? text.length : end;
  return Math.min(offset + Math.max(0, column - 1), lineEnd);
}

/** A file name for an exported policy version, e.g. "gatehouse-policy-v3.yaml". */
export function policyFileName(version: number): string {
  return `gatehouse-policy-v${version}.yaml`;
}
