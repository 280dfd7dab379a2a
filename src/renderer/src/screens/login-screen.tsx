import { useState, type FormEvent } from 'react';

/** Browser sign-in: the admin token that `gatehouse serve` printed on its first run. */
export function LoginScreen({ onToken, failed }: { onToken: (token: string) => void; failed: boolean }) {
  const [token, setToken] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (token.trim()) onToken(token.trim());
  };
  return (
    <main className="login">
      <form className="card login-card" onSubmit={submit}>
        <h1>Gatehouse</h1>
        <p className="muted">
          Sign in with the admin token that <code>gatehouse serve</code> printed on its first run.
        </p>
        <label htmlFor="token">Admin token</label>
        <input id="token" type="password" autoFocus autoComplete="off" spellCheck={false} value={token} onChange={(e) => setToken(e.target.value)} />
        {failed && (
          <p className="error" role="alert">
            That token was not accepted. Check it and try again.
          </p>
        )}
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
