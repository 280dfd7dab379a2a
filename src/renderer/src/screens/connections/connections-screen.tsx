import type { Route } from '../../routes';
import { ComingSoonScreen } from '../coming-soon-screen';

/** Connections (being built). */
export function ConnectionsScreen(_props: { navigate?: (r: Route) => void }) {
  return <ComingSoonScreen title="Connections" />;
}
