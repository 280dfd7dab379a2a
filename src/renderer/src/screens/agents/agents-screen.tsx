import type { Route } from '../../routes';
import { ComingSoonScreen } from '../coming-soon-screen';

/** Agents (being built). */
export function AgentsScreen(_props: { navigate?: (r: Route) => void }) {
  return <ComingSoonScreen title="Agents" />;
}
