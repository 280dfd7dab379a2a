import type { Route } from '../../routes';
import { ComingSoonScreen } from '../coming-soon-screen';

/** Overview (being built). */
export function OverviewScreen(_props: { navigate?: (r: Route) => void }) {
  return <ComingSoonScreen title="Overview" />;
}
