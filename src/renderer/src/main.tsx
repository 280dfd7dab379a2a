import { StrictMode, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { ClientContext } from './contract-client/client-context';
import { httpClient } from './contract-client/http-client';
import { ipcClient } from './contract-client/ipc-client';
import { LoginScreen } from './screens/login-screen';
import './styles.css';

// The admin token lives in this tab's sessionStorage: gone when the tab closes, never in localStorage.
const TOKEN_KEY = 'gatehouse.adminToken';

/**
 * Picks the contract client once at start: the desktop app's IPC bridge when the preload exposed one;
 * otherwise HTTP + WebSocket to the `gatehouse serve` that served this page, after the admin token login.
 */
function Root() {
  const bridge = window.gatehouse;
  const [token, setToken] = useState<string | null>(() => (bridge ? null : sessionStorage.getItem(TOKEN_KEY)));
  const [rejected, setRejected] = useState(false);
  const client = useMemo(() => {
    if (bridge) return ipcClient(bridge);
    if (!token) return null;
    const c = httpClient(window.location.origin, token, () => {
      c.close();
      sessionStorage.removeItem(TOKEN_KEY);
      setRejected(true);
      setToken(null);
    });
    return c;
  }, [bridge, token]);

  if (!client) {
    return (
      <LoginScreen
        failed={rejected}
        onToken={(t) => {
          sessionStorage.setItem(TOKEN_KEY, t);
          setRejected(false);
          setToken(t);
        }}
      />
    );
  }
  const signOut = bridge
    ? undefined
    : () => {
        sessionStorage.removeItem(TOKEN_KEY);
        client.close();
        setToken(null);
      };
  return (
    <ClientContext.Provider value={client}>
      <App onSignOut={signOut} />
    </ClientContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
