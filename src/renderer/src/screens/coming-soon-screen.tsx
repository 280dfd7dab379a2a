/** Placeholder for a screen that is not built yet (issue 4); says where the same actions live today. */
export function ComingSoonScreen({ title }: { title: string }) {
  return (
    <section className="screen" aria-labelledby="soon-title">
      <header className="screen-header">
        <h1 id="soon-title">{title}</h1>
      </header>
      <div className="empty">
        <p>This screen is coming soon.</p>
        <p className="muted">
          Meanwhile the <code>gatehouse</code> command line does the same: <code>gatehouse --help</code>.
        </p>
      </div>
    </section>
  );
}
