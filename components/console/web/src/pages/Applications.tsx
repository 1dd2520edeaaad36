// Applications: the consumer's OAuth2 clients. Creating one shows its
// consumer key and secret once.
import { useState } from 'preact/hooks';
import { api, type CreatedApplication } from '../api';
import { Link } from '../router';
import { session } from '../session';
import { DataTable, Empty, fieldError, PageHeading, Pending, ProblemMessage, SecretValue, TextField, Time, useAction, useLoad, usePageTitle } from '../ui';

/** The one-time view of a new application's credentials. */
export function NewCredentials({ app }: { app: CreatedApplication }) {
  return (
    <div class="card" role="region" aria-labelledby="credentials-heading">
      <h2 id="credentials-heading">Credentials of {app.name}</h2>
      <div class="notice warning" role="note">
        <p>
          <strong>Copy the consumer secret now: it is shown only this once.</strong> The platform keeps only a hash of
          it. This console remembers it in this browser tab's session storage (never in local storage) so that Try it
          out works until you sign out or close the tab.
        </p>
      </div>
      <SecretValue label="Consumer key" value={app.consumerKey} />
      <SecretValue label="Consumer secret" value={app.consumerSecret} />
      <p>
        <Link href={`/applications/${app.id}`}>Open {app.name}</Link> to subscribe it to a service.
      </p>
    </div>
  );
}

export function ApplicationsPage() {
  usePageTitle('Applications');
  const apps = useLoad(() => api.applications(), []);
  const [name, setName] = useState('');
  const creating = useAction();
  const [created, setCreated] = useState<CreatedApplication | null>(null);

  const create = (event: Event) => {
    event.preventDefault();
    creating.run(async () => {
      const app = await api.createApplication(name.trim());
      session.rememberConsumerSecret(app.id, app.consumerSecret);
      setCreated(app);
      setName('');
      apps.reload();
    });
  };

  return (
    <section>
      <PageHeading>Applications</PageHeading>
      <p class="lead">An application calls services through the gateway with an OAuth2 token of its own.</p>
      <form class="inline-form card" onSubmit={create} aria-labelledby="new-app-heading" noValidate>
        <h2 id="new-app-heading">Create application</h2>
        <TextField label="Application name" value={name} onValue={setName} required error={fieldError(creating.error, 'name')} />
        <button type="submit" disabled={creating.busy}>
          {creating.busy ? 'Creating…' : 'Create application'}
        </button>
        <ProblemMessage error={creating.error} />
      </form>
      {created && <NewCredentials app={created} />}
      <h2>Your applications</h2>
      {!apps.data ? (
        <Pending loaded={apps} what="Loading applications" />
      ) : apps.data.items.length === 0 ? (
        <Empty>
          <p>No applications yet. Create one above, then subscribe it to a service from its page or from the marketplace.</p>
        </Empty>
      ) : (
        <DataTable caption="Your applications" columns={['Name', 'Consumer key', 'Created']}>
          <tbody>
            {apps.data.items.map((a) => (
              <tr key={a.id}>
                <td>
                  <Link href={`/applications/${a.id}`}>{a.name}</Link>
                </td>
                <td>
                  <code class="id">{a.consumerKey}</code>
                </td>
                <td>
                  <Time iso={a.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      )}
    </section>
  );
}
