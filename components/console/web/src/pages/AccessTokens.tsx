// Personal access tokens: create one with scopes and an optional expiry
// (its value shown once), list them, revoke one.
import { useState } from 'preact/hooks';
import { api, type CreatedAccessToken } from '../api';
import { ConfirmButton, DataTable, Empty, fieldError, PageHeading, Pending, ProblemMessage, SecretValue, TextField, Time, useAction, useLoad, usePageTitle } from '../ui';

const SCOPES = [{ id: 'API', help: 'The platform API and the metering API (what a service needs to report usage).' }];

export function AccessTokensPage() {
  usePageTitle('Access tokens');
  const tokens = useLoad(() => api.accessTokens(), []);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['API']);
  const [expires, setExpires] = useState('');
  const creating = useAction();
  const [created, setCreated] = useState<CreatedAccessToken | null>(null);

  const create = (event: Event) => {
    event.preventDefault();
    creating.run(async () => {
      // A date means the end of that day (UTC).
      const expiresAt = expires ? new Date(`${expires}T23:59:59Z`).toISOString() : null;
      setCreated(await api.createAccessToken(name.trim(), scopes, expiresAt));
      setName('');
      setExpires('');
      tokens.reload();
    });
  };

  return (
    <section>
      <PageHeading>Access tokens</PageHeading>
      <p class="lead">
        Personal access tokens authenticate you on the platform API, and your services on the metering API (sent as{' '}
        <code>X-Auth-Token</code>).
      </p>
      <form class="card" onSubmit={create} aria-labelledby="new-token-heading" noValidate>
        <h2 id="new-token-heading">Create access token</h2>
        <TextField label="Token name" value={name} onValue={setName} required error={fieldError(creating.error, 'name')} />
        <fieldset class="choices">
          <legend>Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s.id}>
              <input
                type="checkbox"
                checked={scopes.includes(s.id)}
                onChange={(e) =>
                  setScopes((e.target as HTMLInputElement).checked ? [...scopes, s.id] : scopes.filter((x) => x !== s.id))
                }
              />{' '}
              {s.id} <span class="hint">— {s.help}</span>
            </label>
          ))}
        </fieldset>
        <TextField
          label="Expires on (optional)"
          type="date"
          value={expires}
          onValue={setExpires}
          hint="The token stops working at the end of this day (UTC). Empty: it never expires."
          error={fieldError(creating.error, 'expiresAt')}
        />
        <ProblemMessage error={creating.error} />
        <button type="submit" disabled={creating.busy}>
          {creating.busy ? 'Creating…' : 'Create token'}
        </button>
      </form>
      {created && (
        <div class="card" role="region" aria-label="New access token">
          <div class="notice warning" role="note">
            <p>
              <strong>Copy the token now: it is shown only this once.</strong> The platform keeps only a hash of it.
            </p>
          </div>
          <SecretValue label={`Access token ${created.name}`} value={created.value} />
        </div>
      )}
      <h2>Your tokens</h2>
      {!tokens.data ? (
        <Pending loaded={tokens} what="Loading access tokens" />
      ) : tokens.data.items.length === 0 ? (
        <Empty>
          <p>No access tokens. Create one above for your service to report usage.</p>
        </Empty>
      ) : (
        <DataTable caption="Your access tokens" columns={['Name', 'Scopes', 'Created', 'Expires', 'Actions']}>
          <tbody>
            {tokens.data.items.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>{t.scopes.join(', ') || 'none'}</td>
                <td>
                  <Time iso={t.createdAt} />
                </td>
                <td>{t.expiresAt ? <Time iso={t.expiresAt} /> : 'Never'}</td>
                <td>
                  <ConfirmButton
                    label="Revoke"
                    small
                    danger
                    accessibleLabel={`Revoke ${t.name}`}
                    question={`Revoke the token ${t.name}? Whatever uses it stops working at once.`}
                    confirmLabel="Revoke token"
                    onConfirm={async () => {
                      await api.revokeAccessToken(t.id);
                      tokens.reload();
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      )}
    </section>
  );
}
