import { useMemo } from 'react';
import { tokenizeSql } from '../sql-highlight';

/** A SQL statement shown in full with syntax colours (display only; see sql-highlight.ts). */
export function SqlCode({ sql, className }: { sql: string; className?: string }) {
  const tokens = useMemo(() => tokenizeSql(sql), [sql]);
  return (
    <pre className={`sql-code ${className ?? ''}`}>
      <code>
        {tokens.map((t, i) => (t.kind === 'other' || t.kind === 'identifier' ? t.text : <span key={i} className={`tok-${t.kind}`}>{t.text}</span>))}
      </code>
    </pre>
  );
}
