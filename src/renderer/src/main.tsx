import { StrictMode, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { browserHttpClient } from './contract-client/browser-http-client';
import { ClientContext } from './contract-client/client-context';
import { ipcClient } from './contract-client/ipc-client';
import { LoginScreen } from './screens/login-screen';
import './styles.css';

const TOKEN_KEY = 'gatehouse.adminToken';

/** Desktop: the IPC bridge. Browser: the admin token, kept for this tab only. */
function Root() {
  const bridge = window.gatehouse;
  const [token, setToken] = useState<string | null>(() => sessionStorage.getItem(TOKEN_KEY));
  const [failed, setFailed] = useState(false);
  const client = useMemo(() => {
    if (bridge) return ipcClient(bridge);
    if (!token) return null;
    return browserHttpClient(window.location.origin, token, () => {
      sessionStorage.removeItem(TOKEN_KEY);
      setFailed(true);
      setToken(null);
    });
  }, [bridge, token]);

  if (!client) {
    return (
      <LoginScreen
        failed={failed}
        onToken={(t) => {
          sessionStorage.setItem(TOKEN_KEY, t);
          setFailed(false);
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
