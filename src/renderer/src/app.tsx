import { useState } from 'react';
import { SessionsScreen } from './screens/sessions-screen';

const NAV = [
  { id: 'overview', label: 'Overview' },
  { id: 'connections', label: 'Connections' },
  { id: 'agents', label: 'Agents' },
  { id: 'policy', label: 'Policy' },
  { id: 'approvals', label: 'Approvals' },
  { id: 'sessions', label: 'Sessions' },
  { id: 'settings', label: 'Settings' },
] as const;
type Route = (typeof NAV)[number]['id'];

/** The console shell: navigation and the current screen. */
export function App({ onSignOut }: { onSignOut?: () => void }) {
  const [route, setRoute] = useState<Route>('sessions');
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">Gatehouse</div>
        <ul>
          {NAV.map((n) => (
            <li key={n.id}>
              <button className={route === n.id ? 'nav active' : 'nav'} aria-current={route === n.id ? 'page' : undefined} onClick={() => setRoute(n.id)}>
                {n.label}
              </button>
            </li>
          ))}
        </ul>
        {onSignOut && (
          <button className="nav signout" onClick={onSignOut}>
            Sign out
          </button>
        )}
      </nav>
      <main className="content">
        {route === 'sessions' ? (
          <SessionsScreen />
        ) : (
          <section className="screen">
            <h2>{NAV.find((n) => n.id === route)!.label}</h2>
            <p className="muted">This screen is coming soon. Meanwhile the same actions are available from the <code>gatehouse</code> CLI.</p>
          </section>
        )}
      </main>
    </div>
  );
}
