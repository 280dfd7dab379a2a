import { Suspense, lazy, useCallback, useEffect } from 'react';
import type { ApprovalDto } from '../../shared/contract';
import { inDesktopApp, onMenuNavigate } from './contract-client/desktop-shell';
import { ApprovalsContext, useLiveApprovals } from './hooks/use-live-approvals';
import { useRoute } from './hooks/use-route';
import { SCREENS, parseRoute, type Route } from './routes';
import { ComingSoonScreen } from './screens/coming-soon-screen';
import { notifyApprovalRequested } from './web-notifications';

// Each screen is its own chunk, loaded when first shown, so the first screen does not wait for the rest.
const OverviewScreen = lazy(() => import('./screens/overview/overview-screen').then((m) => ({ default: m.OverviewScreen })));
const ConnectionsScreen = lazy(() => import('./screens/connections/connections-screen').then((m) => ({ default: m.ConnectionsScreen })));
const AgentsScreen = lazy(() => import('./screens/agents/agents-screen').then((m) => ({ default: m.AgentsScreen })));
const PolicyScreen = lazy(() => import('./screens/policy/policy-screen').then((m) => ({ default: m.PolicyScreen })));
const ApprovalsScreen = lazy(() => import('./screens/approvals/approvals-screen').then((m) => ({ default: m.ApprovalsScreen })));
const SessionsScreen = lazy(() => import('./screens/sessions/sessions-screen').then((m) => ({ default: m.SessionsScreen })));
const SessionPage = lazy(() => import('./screens/sessions/session-page').then((m) => ({ default: m.SessionPage })));
const ReviewsScreen = lazy(() => import('./screens/reviews/reviews-screen').then((m) => ({ default: m.ReviewsScreen })));
const ReviewPage = lazy(() => import('./screens/reviews/review-page').then((m) => ({ default: m.ReviewPage })));
const SettingsScreen = lazy(() => import('./screens/settings/settings-screen').then((m) => ({ default: m.SettingsScreen })));

/** The console: sidebar navigation and the screen of the current route. */
export function App({ onSignOut }: { onSignOut?: () => void }) {
  const [route, navigate] = useRoute();
  // Menu items and native notifications (desktop) name a route: "approvals" or "approvals/<id>".
  useEffect(() => onMenuNavigate((r) => navigate(parseRoute(`#/${r}`))), [navigate]);
  const onRequested = useCallback(
    (a: ApprovalDto) => {
      if (!inDesktopApp()) notifyApprovalRequested(a, (id) => navigate({ screen: 'approvals', id }));
    },
    [navigate],
  );
  const approvals = useLiveApprovals(onRequested);
  const pendingCount = approvals.state.pending.length;
  useEffect(() => {
    document.title = pendingCount ? `(${pendingCount}) Gatehouse` : 'Gatehouse';
  }, [pendingCount]);
  return (
    <ApprovalsContext.Provider value={approvals}>
      <div className="shell">
        <nav className="sidebar" aria-label="Main">
          <div className="brand">Gatehouse</div>
          <ul>
            {SCREENS.map((s) => (
              <li key={s.id}>
                <a className={route.screen === s.id ? 'nav active' : 'nav'} href={`#/${s.id}`} aria-current={route.screen === s.id ? 'page' : undefined}>
                  {s.label}
                  {s.id === 'approvals' && pendingCount > 0 && (
                    <span className="nav-count" aria-label={`${pendingCount} pending`}>
                      {pendingCount}
                    </span>
                  )}
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
    </ApprovalsContext.Provider>
  );
}

function Screen({ route, navigate }: { route: Route; navigate: (r: Route) => void }) {
  switch (route.screen) {
    case 'overview':
      return <OverviewScreen navigate={navigate} />;
    case 'connections':
      return <ConnectionsScreen />;
    case 'agents':
      return <AgentsScreen />;
    case 'policy':
      return <PolicyScreen />;
    case 'approvals':
      return <ApprovalsScreen selectedId={route.id} onSelect={(id) => navigate({ screen: 'approvals', id })} />;
    case 'sessions':
      return route.id ? (
        <SessionPage key={route.id} id={route.id} query={route.query} onBack={() => navigate({ screen: 'sessions' })} />
      ) : (
        <SessionsScreen onOpen={(id) => navigate({ screen: 'sessions', id })} />
      );
    case 'reviews':
      return route.id ? (
        <ReviewPage key={route.id} id={route.id} onBack={() => navigate({ screen: 'reviews' })} />
      ) : (
        <ReviewsScreen key={route.query?.agent ?? ''} startFor={route.query?.agent} onOpen={(id) => navigate({ screen: 'reviews', id })} />
      );
    case 'settings':
      return <SettingsScreen />;
    default:
      return <ComingSoonScreen title={SCREENS.find((s) => s.id === route.screen)!.label} />;
  }
}
