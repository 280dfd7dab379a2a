import type { Route } from '../../routes';
import { ComingSoonScreen } from '../coming-soon-screen';

/** Policy (being built). */
export function PolicyScreen(_props: { navigate?: (r: Route) => void }) {
  return <ComingSoonScreen title="Policy" />;
}
