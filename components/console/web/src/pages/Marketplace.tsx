// The marketplace: published services of every provider, searchable and
// filtered by quantum backend; a service's plans, API specification, and
// subscribing one of your applications.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { Link } from '../router';
import { ApiSpec } from '../parts/ApiSpec';
import { PricingPlans } from '../parts/PricingPlans';
import { SubscribeForm } from '../parts/SubscribeForm';
import { Empty, PageHeading, Pending, SelectField, TextField, useLoad, usePageTitle } from '../ui';

export function MarketplacePage() {
  usePageTitle('Marketplace');
  const backends = useLoad(() => api.quantumBackends(), []);
  const [draft, setDraft] = useState({ q: '', quantumBackend: '' });
  const [query, setQuery] = useState(draft);
  const services = useLoad(() => api.marketplace(query), [query.q, query.quantumBackend]);

  return (
    <section>
      <PageHeading>Marketplace</PageHeading>
      <form
        class="filters"
        role="search"
        aria-label="Search the marketplace"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(draft);
        }}
      >
        <TextField label="Search" type="search" value={draft.q} onValue={(q) => setDraft({ ...draft, q })} placeholder="Name or description" />
        <SelectField
          label="Quantum backend"
          value={draft.quantumBackend}
          onValue={(quantumBackend) => setDraft({ ...draft, quantumBackend })}
          options={[{ value: '', label: 'Any backend' }, ...(backends.data?.items ?? []).map((b) => ({ value: b.id, label: b.name }))]}
        />
        <div class="actions">
          <button type="submit">Search</button>
        </div>
      </form>
      {!services.data ? (
        <Pending loaded={services} what="Loading the marketplace" />
      ) : services.data.items.length === 0 ? (
        <Empty>
          {query.q || query.quantumBackend ? (
            <p>No published service matches. Try another search or any backend.</p>
          ) : (
            <p>
              No service is published yet. Publish one of <Link href="/services">your services</Link> to list it here.
            </p>
          )}
        </Empty>
      ) : (
        <ul class="cards" aria-label="Published services">
          {services.data.items.map((s) => (
            <li class="card" key={s.id}>
              <h2>
                <Link href={`/marketplace/${s.id}`}>{s.name}</Link>
              </h2>
              <p class="hint">
                {s.type === 'EXTERNAL' ? 'External' : 'Managed'} · {s.quantumBackend} · {s.pricingPlans.length} pricing{' '}
                {s.pricingPlans.length === 1 ? 'plan' : 'plans'}
              </p>
              {s.description && <p>{s.description}</p>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function MarketplaceServicePage({ id }: { id: string }) {
  const services = useLoad(() => api.marketplace({}), []);
  const apps = useLoad(() => api.applications(), []);
  const spec = useLoad(() => api.apiSpec(id), [id]);
  const [subscribed, setSubscribed] = useState(false);
  const service = services.data?.items.find((s) => s.id === id);
  usePageTitle(service?.name ?? 'Marketplace service');

  if (!services.data) return <Pending loaded={services} what="Loading the service" />;
  if (!service) {
    return (
      <section>
        <PageHeading>Service not found</PageHeading>
        <p>
          This service is not on the marketplace (anymore). <Link href="/marketplace">Browse the marketplace</Link>.
        </p>
      </section>
    );
  }
  return (
    <section>
      <p class="breadcrumb">
        <Link href="/marketplace">Marketplace</Link> / {service.name}
      </p>
      <PageHeading>{service.name}</PageHeading>
      <p class="hint">
        {service.type === 'EXTERNAL' ? 'External service' : 'Managed service'} · quantum backend {service.quantumBackend}
      </p>
      {service.description && <p class="description">{service.description}</p>}
      <section aria-labelledby="plans-heading">
        <h2 id="plans-heading">Pricing plans</h2>
        <PricingPlans plans={service.pricingPlans} empty={<p>This service has no pricing plans.</p>} />
      </section>
      <section aria-labelledby="subscribe-section">
        <h2 id="subscribe-section">Subscribe</h2>
        {subscribed ? (
          <p role="status">
            Subscribed. Open the application from <Link href="/applications">Applications</Link> to try the service out.
          </p>
        ) : !apps.data ? (
          <Pending loaded={apps} what="Loading your applications" />
        ) : apps.data.items.length === 0 ? (
          <Empty>
            <p>
              You have no application to subscribe. <Link href="/applications">Create an application</Link> first.
            </p>
          </Empty>
        ) : (
          <SubscribeForm
            applications={apps.data.items}
            services={[{ id: service.id, name: service.name, type: service.type, plans: service.pricingPlans, internal: false }]}
            chooseApplication
            chooseService={false}
            onSubscribed={() => setSubscribed(true)}
          />
        )}
      </section>
      <section aria-labelledby="spec-heading">
        <h2 id="spec-heading">API specification</h2>
        {spec.data ? <ApiSpec doc={spec.data} /> : <Pending loaded={spec} what="Loading the API specification" />}
      </section>
    </section>
  );
}
