// Sign up (an account and its first personal access token) or sign in with
// a personal access token. The token is kept in this tab's session only.
import { useState } from 'preact/hooks';
import { api, type CreatedAccount } from '../api';
import { session } from '../session';
import { fieldError, PageHeading, ProblemMessage, SecretValue, TextField, useAction, usePageTitle } from '../ui';

export function SignInPage() {
  usePageTitle('Sign in');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [created, setCreated] = useState<CreatedAccount | null>(null);
  const [token, setToken] = useState('');
  const signingUp = useAction();
  const signingIn = useAction();

  const signUp = (event: Event) => {
    event.preventDefault();
    signingUp.run(async () => setCreated(await api.signUp(name.trim(), email.trim())));
  };

  const signIn = (event: Event) => {
    event.preventDefault();
    signingIn.run(async () => {
      await api.me(token.trim());
      session.signIn(token.trim());
    });
  };

  if (created) {
    return (
      <section class="narrow">
        <PageHeading>Welcome, {created.name}</PageHeading>
        <div class="notice warning" role="note">
          <p>
            <strong>Copy your personal access token now.</strong> It is shown only this once; you need it to sign in
            again and for the metering API. This console keeps it in this browser tab's session only and forgets it
            when you sign out or close the tab.
          </p>
        </div>
        <SecretValue label="Personal access token" value={created.accessToken.value} />
        <div class="actions">
          <button type="button" onClick={() => session.signIn(created.accessToken.value)}>
            Continue to the console
          </button>
        </div>
      </section>
    );
  }

  return (
    <section class="narrow">
      <PageHeading>Welcome to qmarket</PageHeading>
      <p class="lead">The marketplace for quantum services: sell yours, or subscribe to others'.</p>
      <div class="two-columns">
        <form class="card" onSubmit={signUp} aria-labelledby="sign-up-heading">
          <h2 id="sign-up-heading">Sign up</h2>
          <TextField label="Name" value={name} onValue={setName} required autoComplete="name" error={fieldError(signingUp.error, 'name')} />
          <TextField
            label="Email"
            type="email"
            value={email}
            onValue={setEmail}
            required
            autoComplete="email"
            error={fieldError(signingUp.error, 'email')}
          />
          <ProblemMessage error={signingUp.error} />
          <button type="submit" disabled={signingUp.busy}>
            Sign up
          </button>
        </form>
        <form class="card" onSubmit={signIn} aria-labelledby="sign-in-heading">
          <h2 id="sign-in-heading">Sign in</h2>
          <TextField
            label="Personal access token"
            type="password"
            value={token}
            onValue={setToken}
            required
            autoComplete="off"
            hint="Kept in this browser tab's session only."
          />
          <ProblemMessage error={signingIn.error} />
          <button type="submit" disabled={signingIn.busy}>
            Sign in
          </button>
        </form>
      </div>
    </section>
  );
}
