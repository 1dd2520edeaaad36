// Service details: what the service is, its lifecycle (publish internal,
// publish, unpublish), pricing plans (create, edit, delete), code and build
// (managed), the API specification, the metering events and the revenue per
// month.
import { useState } from 'preact/hooks';
import { api, type Lifecycle, type Service } from '../api';
import { Link, navigate } from '../router';
import { ApiSpec } from '../parts/ApiSpec';
import { BuildSection } from '../parts/Build';
import { MeteringEvents } from '../parts/MeteringEvents';
import { PlanForm } from '../parts/PlanForm';
import { PricingPlans } from '../parts/PricingPlans';
import {
  ConfirmButton,
  lazy,
  LIFECYCLE_LABEL,
  OpenFormButton,
  PageHeading,
  Pending,
  ProblemMessage,
  Time,
  useAction,
  useLoad,
  usePageTitle,
} from '../ui';

const Revenue = lazy(() => import('../parts/Revenue').then((m) => m.Revenue), 'Loading the revenue');

const STEPS: { state: Lifecycle; label: string; help: string }[] = [
  { state: 'CREATED', label: 'Created', help: 'Only you see it.' },
  { state: 'ACCESSIBLE', label: 'Published internally', help: 'Your own applications may subscribe; usage is metered in test mode.' },
  { state: 'PUBLISHED', label: 'Published', help: 'Listed on the marketplace for every consumer.' },
];

function LifecycleSection({ service, onChange }: { service: Service; onChange: (s: Service) => void }) {
  const changing = useAction();
  const busy = changing.busy;
  const act = (action: 'publish-internal' | 'publish' | 'unpublish') =>
    changing.run(async () => onChange(await api.lifecycle(service.id, action)));
  return (
    <section aria-labelledby="lifecycle-heading">
      <h2 id="lifecycle-heading">Lifecycle</h2>
      <ol class="steps" aria-label="Lifecycle">
        {STEPS.map((step) => (
          <li key={step.state} class={service.lifecycle === step.state ? 'current' : ''} aria-current={service.lifecycle === step.state ? 'step' : undefined}>
            <strong>{step.label}</strong>
            <span class="hint">{step.help}</span>
          </li>
        ))}
      </ol>
      <p role="status">
        Current state: <strong>{LIFECYCLE_LABEL[service.lifecycle]}</strong>
      </p>
      <div class="actions">
        <button type="button" disabled={busy || service.lifecycle === 'ACCESSIBLE'} onClick={() => act('publish-internal')}>
          Publish internal
        </button>
        <button type="button" disabled={busy || service.lifecycle === 'PUBLISHED'} onClick={() => act('publish')}>
          Publish
        </button>
        <button type="button" class="secondary" disabled={busy || service.lifecycle === 'CREATED'} onClick={() => act('unpublish')}>
          Unpublish
        </button>
      </div>
      <ProblemMessage error={changing.error} />
    </section>
  );
}

/** What the plan forms' buttons call a new plan's form (a plan's form goes by the plan's id). */
const NEW_PLAN = 'new';

/**
 * A service's pricing plans, for its owner: each with its buttons to edit
 * (its form in place of its card) and delete it, and a new plan's form. A
 * form's heading takes the focus as it opens; as it closes, the button
 * that opened it takes the focus back.
 */
function PlansSection({ serviceId }: { serviceId: string }) {
  const plans = useLoad(() => api.pricingPlans(serviceId), [serviceId]);
  const [creating, setCreating] = useState(false);
  const [editingId, setEditingId] = useState<string | null>(null);
  // The form that closed last: NEW_PLAN or a plan's id.
  const [closed, setClosed] = useState<string | null>(null);
  const closeCreating = () => {
    setCreating(false);
    setClosed(NEW_PLAN);
  };
  const closeEditing = (planId: string) => {
    setEditingId(null);
    setClosed(planId);
  };

  return (
    <section aria-labelledby="plans-heading">
      <div class="section-heading">
        <h2 id="plans-heading">Pricing plans</h2>
        {!creating && <OpenFormButton label="Create pricing plan" focusOnReturn={closed === NEW_PLAN} onOpen={() => setCreating(true)} />}
      </div>
      {creating && (
        <PlanForm
          serviceId={serviceId}
          heading="New pricing plan"
          submitLabel="Create plan"
          onSaved={() => {
            closeCreating();
            plans.reload();
          }}
          onCancel={closeCreating}
        />
      )}
      {!plans.data ? (
        <Pending loaded={plans} what="Loading pricing plans" />
      ) : (
        <PricingPlans
          plans={plans.data.items}
          empty={
            <p>
              No pricing plans yet. Create one — for example a pay-per-use plan with a product <code>API</code> at{' '}
              <code>0.00001</code> EUR per <code>call</code> — before you publish the service.
            </p>
          }
          actions={(plan) => (
            <div class="row-actions">
              <OpenFormButton
                label="Edit plan"
                accessibleLabel={`Edit plan ${plan.name}`}
                small
                focusOnReturn={closed === plan.id}
                onOpen={() => setEditingId(plan.id)}
              />
              <ConfirmButton
                label="Delete plan"
                small
                accessibleLabel={`Delete plan ${plan.name}`}
                question={`Delete the pricing plan ${plan.name}?`}
                confirmLabel="Delete plan"
                danger
                onConfirm={async () => {
                  await api.deletePricingPlan(serviceId, plan.id);
                  plans.reload();
                }}
              />
            </div>
          )}
          editor={(plan) =>
            plan.id === editingId && (
              <PlanForm
                serviceId={serviceId}
                plan={plan}
                heading={`Edit plan ${plan.name}`}
                submitLabel="Save plan"
                onSaved={() => {
                  closeEditing(plan.id);
                  plans.reload();
                }}
                onCancel={() => closeEditing(plan.id)}
              />
            )
          }
        />
      )}
    </section>
  );
}

export function ServicePage({ id }: { id: string }) {
  const loaded = useLoad(() => api.service(id), [id]);
  const [updated, setUpdated] = useState<Service | null>(null);
  const service = updated ?? loaded.data;
  usePageTitle(service?.name ?? 'Service');
  const spec = useLoad(() => api.apiSpec(id), [id, service?.updatedAt]);

  if (!service) return <Pending loaded={loaded} what="Loading the service" />;

  return (
    <section>
      <p class="breadcrumb">
        <Link href="/services">My services</Link> / {service.name}
      </p>
      <PageHeading
        actions={
          <>
            <Link href={`/services/${id}/edit`} class="button secondary">
              Edit
            </Link>
            <ConfirmButton
              label="Delete"
              danger
              question={`Delete the service ${service.name}? This cannot be undone.`}
              confirmLabel="Delete service"
              onConfirm={async () => {
                await api.deleteService(id);
                navigate('/services');
              }}
            />
          </>
        }
      >
        {service.name}
      </PageHeading>
      <dl class="facts">
        <div>
          <dt>Type</dt>
          <dd>{service.type === 'EXTERNAL' ? 'External service' : 'Managed service'}</dd>
        </div>
        <div>
          <dt>Quantum backend</dt>
          <dd>{service.quantumBackend}</dd>
        </div>
        {service.type === 'EXTERNAL' ? (
          <>
            <div>
              <dt>URL</dt>
              <dd>
                <code>{service.url}</code>
              </dd>
            </div>
            <div>
              <dt>Authentication</dt>
              <dd>
                {service.securityConfiguration.type === 'BASIC'
                  ? `HTTP Basic as ${service.securityConfiguration.username ?? ''}`
                  : 'None'}
              </dd>
            </div>
          </>
        ) : (
          <>
            <div>
              <dt>Runtime</dt>
              <dd>{service.runtime}</dd>
            </div>
            {service.resources && (
              <div>
                <dt>Resources</dt>
                <dd>
                  {service.resources.milliCpus} millicores, {service.resources.memoryInMegabytes} MB,{' '}
                  {service.resources.timeoutSeconds} s timeout
                </dd>
              </div>
            )}
          </>
        )}
        <div>
          <dt>Service id</dt>
          <dd>
            <code class="id">{service.id}</code>
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time iso={service.createdAt} />
          </dd>
        </div>
      </dl>
      {service.description && <p class="description">{service.description}</p>}

      <LifecycleSection service={service} onChange={setUpdated} />

      <PlansSection serviceId={id} />

      {service.type === 'MANAGED' && <BuildSection serviceId={id} />}

      <section aria-labelledby="spec-heading">
        <h2 id="spec-heading">API specification</h2>
        {spec.data ? <ApiSpec doc={spec.data} /> : <Pending loaded={spec} what="Loading the API specification" />}
      </section>

      <MeteringEvents serviceId={id} />

      <Revenue service={service} />
    </section>
  );
}
