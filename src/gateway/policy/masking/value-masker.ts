import type { MaskStrategy, ValueMaskRule } from '../policy-types';
import { BUILTIN_DETECTORS, customDetector, newProfile, profileString, type Detector, type Span, type ValueProfile } from './detectors';
import { applyStrategy, redactMarker, strictness } from './strategies';

/** Per-rule/detector tallies: key `rule:detector` (or `rule:column`), value = values masked. */
export type MaskCounts = Map<string, number>;

export function bump(counts: MaskCounts, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

interface CompiledRule {
  rule: string;
  strategy: MaskStrategy;
  detectors: { detector: Detector; countKey: string }[];
}

interface LabeledSpan extends Span {
  label: string;
}

/**
 * The value rules of a plan, compiled once per session: the detectors of every rule, in order of
 * strictness (null > redact > hash > partial), so where two rules find the same text the strictest
 * strategy is the one applied (the later rules then see masked text).
 */
export class ValueMasker {
  private readonly rules: CompiledRule[];
  private readonly all: Detector[];
  private readonly scratch = newProfile();

  constructor(rules: readonly ValueMaskRule[], private readonly key: Buffer) {
    this.rules = rules
      .map((r, i) => ({ r, i }))
      .sort((a, b) => strictness(b.r.strategy) - strictness(a.r.strategy) || a.i - b.i)
      .map(({ r }) => ({
        rule: r.rule,
        strategy: r.strategy,
        detectors: [
          ...r.detectors.map((d) => {
            const detector = BUILTIN_DETECTORS[d];
            if (!detector) throw new Error(`unknown detector "${d}" in masking rule "${r.rule}"`);
            return { detector, countKey: `${r.rule}:${d}` };
          }),
          ...r.custom.map((c) => ({ detector: customDetector(c.name, c.pattern), countKey: `${r.rule}:${c.name}` })),
        ],
      }))
      .filter((r) => r.detectors.length > 0);
    this.all = this.rules.flatMap((r) => r.detectors.map((d) => d.detector));
  }

  /** Whether there are any detectors at all. */
  get enabled(): boolean {
    return this.all.length > 0;
  }

  /** False when no detector can find anything in a value with this profile (the common, fast answer). */
  maybe(p: ValueProfile): boolean {
    const all = this.all;
    for (let i = 0; i < all.length; i++) if (all[i].pre(p)) return true;
    return false;
  }

  /**
   * Mask the detector hits in `text` (whose profile is `p`, or computed here when omitted). Returns
   * undefined when nothing was found, null when a hit's strategy is `null` (the whole value becomes
   * NULL), else the masked text. With `noNull` (message text, where no NULL exists) `null` hits are
   * replaced by the redact marker instead.
   */
  mask(text: string, counts: MaskCounts, p?: ValueProfile, noNull = false): string | null | undefined {
    let profile = p ?? profileString(text, this.scratch);
    let current = text;
    let changed = false;
    const spans: LabeledSpan[] = [];
    const rules = this.rules;
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r];
      spans.length = 0;
      for (const { detector, countKey } of rule.detectors) {
        if (!detector.pre(profile)) continue;
        const before = spans.length;
        detector.find(current, spans as Span[]);
        if (spans.length === before) continue;
        for (let i = before; i < spans.length; i++) spans[i].label = detector.name;
        bump(counts, countKey);
      }
      if (spans.length === 0) continue;
      if (rule.strategy.kind === 'null' && !noNull) return null;
      current = this.replace(current, spans, rule.strategy);
      changed = true;
      if (r + 1 < rules.length) profile = profileString(current, this.scratch);
    }
    return changed ? current : undefined;
  }

  private replace(text: string, spans: LabeledSpan[], strategy: MaskStrategy): string {
    const sorted = spans.slice().sort((a, b) => a.start - b.start || b.end - a.end);
    let out = '';
    let pos = 0;
    let i = 0;
    while (i < sorted.length) {
      const { start, label } = sorted[i];
      let end = sorted[i].end;
      // Overlapping hits (an email inside a longer token) are masked as one.
      while (++i < sorted.length && sorted[i].start < end) end = Math.max(end, sorted[i].end);
      const piece = text.slice(start, end);
      const replacement = applyStrategy(strategy, piece, this.key, label) ?? redactMarker(label);
      out += text.slice(pos, start) + replacement;
      pos = end;
    }
    return out + text.slice(pos);
  }
}
