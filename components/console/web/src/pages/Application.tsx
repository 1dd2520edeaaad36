// An application: its consumer key, its subscriptions (with Try it out and
// their billing: invoices, calls, spend cap), subscribing it to a service,
// deleting it.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { Link, navigate } from '../router';
import { session } from '../session';
import { subscribableServices } from '../parts/catalog';
import { SubscribeForm } from '../parts/SubscribeForm';
import { ConfirmButton, CopyButton, DataTable, Empty, PageHeading, Pending, Time, useLoad, usePageTitle } from '../ui';

export function ApplicationPage({ id }: { id: string }) {
  const app = useLoad(() => api.application(id), [id]);
  usePageTitle(app.data?.name ?? 'Application');
  const subscriptions = useLoad(() => api.subscriptions(id), [id]);
  const services = useLoad(() => subscribableServices(), [id]);
  const [subscribing, setSubscribing] = useState(false);

  if (!app.data) return <Pending loaded={app} what="Loading the application" />;
  const a = app.data;
  const serviceName = (serviceId: string) => services.data?.find((s) => s.id === serviceId)?.name ?? serviceId;
  const planName = (serviceId: string, planId: string) =>
    services.data?.find((s) => s.id === serviceId)?.plans.find((p) => p.id === planId)?.name ?? planId;

  return (
    <section>
      <p class="breadcrumb">
        <Link href="/applications">Applications</Link> / {a.name}
      </p>
      <PageHeading
        actions={
          <ConfirmButton
            label="Delete"
            danger
            question={`Delete the application ${a.name}? Its tokens stop working at once.`}
            confirmLabel="Delete application"
            onConfirm={async () => {
              await api.deleteApplication(id);
              session.forgetConsumerSecret(id);
              navigate('/applications');
            }}
          />
        }
      >
        {a.name}
      </PageHeading>
      <dl class="facts">
        <div>
          <dt>Consumer key</dt>
          <dd>
            <code class="id">{a.consumerKey}</code> <CopyButton text={a.consumerKey} label="Copy consumer key" />
          </dd>
        </div>
        <div>
          <dt>Consumer secret</dt>
          <dd>{session.consumerSecret(id) ? 'Known in this browser session' : 'Not known in this session (shown once at creation)'}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time iso={a.createdAt} />
          </dd>
        </div>
      </dl>

      <section aria-labelledby="subscriptions-heading">
        <div class="section-heading">
          <h2 id="subscriptions-heading">Subscriptions</h2>
          {!subscribing && (
            <button type="button" onClick={() => setSubscribing(true)}>
              Subscribe to service
            </button>
          )}
        </div>
        {subscribing &&
          (!services.data ? (
            <Pending loaded={services} what="Loading services" />
          ) : services.data.length === 0 ? (
            <Empty>
              <p>
                No service to subscribe to yet. Publish one of <Link href="/services">your services</Link> (internally
                for a test), or wait for services on the <Link href="/marketplace">marketplace</Link>.
              </p>
            </Empty>
          ) : (
            <SubscribeForm
              applications={[a]}
              services={services.data}
              chooseApplication={false}
              chooseService
              onSubscribed={() => {
                setSubscribing(false);
                subscriptions.reload();
              }}
            />
          ))}
        {!subscriptions.data ? (
          <Pending loaded={subscriptions} what="Loading subscriptions" />
        ) : subscriptions.data.items.length === 0 ? (
          <Empty>
            <p>Not subscribed to any service. Use “Subscribe to service” to pick one and a pricing plan.</p>
          </Empty>
        ) : (
          <DataTable caption={<>Subscriptions of {a.name}</>} columns={['Service', 'Pricing plan', 'Mode', 'Since', 'Actions']}>
            <tbody>
              {subscriptions.data.items.map((s) => (
                <tr key={s.id}>
                  <td>{serviceName(s.serviceId)}</td>
                  <td>{planName(s.serviceId, s.pricingPlanId)}</td>
                  <td>{s.testMode ? 'Test mode' : 'Live'}</td>
                  <td>
                    <Time iso={s.createdAt} />
                  </td>
                  <td class="row-actions">
                    <Link href={`/applications/${id}/subscriptions/${s.id}/try`} class="button small" aria-label={`Try it out: ${serviceName(s.serviceId)}`}>
                      Try it out
                    </Link>
                    <Link
                      href={`/applications/${id}/subscriptions/${s.id}`}
                      class="button small secondary"
                      aria-label={`Billing: ${serviceName(s.serviceId)}`}
                    >
                      Billing
                    </Link>
                    <ConfirmButton
                      label="Unsubscribe"
                      small
                      accessibleLabel={`Unsubscribe from ${serviceName(s.serviceId)}`}
                      question={`Unsubscribe ${a.name} from ${serviceName(s.serviceId)}?`}
                      confirmLabel="Unsubscribe"
                      danger
                      onConfirm={async () => {
                        await api.unsubscribe(s.id);
                        subscriptions.reload();
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </DataTable>
        )}
      </section>
    </section>
  );
}
