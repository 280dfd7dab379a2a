import { Suspense, lazy, useEffect } from 'react';
import { onMenuNavigate } from './contract-client/desktop-shell';
import { useRoute } from './hooks/use-route';
import { SCREENS, isScreen, type Route } from './routes';
import { ComingSoonScreen } from './screens/coming-soon-screen';

// Each screen is its own chunk, loaded when first shown, so the first screen does not wait for the rest.
const SessionsScreen = lazy(() => import('./screens/sessions/sessions-screen').then((m) => ({ default: m.SessionsScreen })));
const SessionPage = lazy(() => import('./screens/sessions/session-page').then((m) => ({ default: m.SessionPage })));

/** The console: sidebar navigation and the screen of the current route. */
export function App({ onSignOut }: { onSignOut?: () => void }) {
  const [route, navigate] = useRoute();
  useEffect(() => onMenuNavigate((screen) => isScreen(screen) && navigate({ screen })), [navigate]);
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">Gatehouse</div>
        <ul>
          {SCREENS.map((s) => (
            <li key={s.id}>
              <a className={route.screen === s.id ? 'nav active' : 'nav'} href={`#/${s.id}`} aria-current={route.screen === s.id ? 'page' : undefined}>
                {s.label}
              </a>
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
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Screen route={route} navigate={navigate} />
        </Suspense>
      </main>
    </div>
  );
}

function Screen({ route, navigate }: { route: Route; navigate: (r: Route) => void }) {
  switch (route.screen) {
    case 'sessions':
      return route.id ? (
        <SessionPage key={route.id} id={route.id} onBack={() => navigate({ screen: 'sessions' })} />
      ) : (
        <SessionsScreen onOpen={(id) => navigate({ screen: 'sessions', id })} />
      );
    default:
      return <ComingSoonScreen title={SCREENS.find((s) => s.id === route.screen)!.label} />;
  }
}
