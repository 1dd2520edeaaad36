// Subscribes an application to a service under one of its pricing plans.
// Either side may be fixed: an application's page picks the service, a
// marketplace service's page picks the application.
import { useEffect, useState } from 'preact/hooks';
import { api, type Application, type Subscription } from '../api';
import { fieldError, ProblemMessage, SelectField, useAction } from '../ui';
import type { Subscribable } from './catalog';
import { limitsInWords, productSummary } from './pricing';

export function SubscribeForm(props: {
  applications: Application[];
  services: Subscribable[];
  /** Show a choice of application (else the first is used). */
  chooseApplication: boolean;
  /** Show a choice of service (else the first is used). */
  chooseService: boolean;
  onSubscribed: (s: Subscription) => void;
}) {
  const [applicationId, setApplicationId] = useState(props.applications[0]?.id ?? '');
  const [serviceId, setServiceId] = useState(props.services[0]?.id ?? '');
  const service = props.services.find((s) => s.id === serviceId);
  const [planId, setPlanId] = useState(service?.plans[0]?.id ?? '');
  const plan = service?.plans.find((p) => p.id === planId);
  const subscribing = useAction();
  const error = subscribing.error;

  useEffect(() => setPlanId(service?.plans[0]?.id ?? ''), [serviceId]);

  const submit = (event: Event) => {
    event.preventDefault();
    subscribing.run(async () => props.onSubscribed(await api.subscribe(applicationId, serviceId, planId)));
  };

  return (
    <form class="card" onSubmit={submit} aria-labelledby="subscribe-heading">
      <h3 id="subscribe-heading">Subscribe to service</h3>
      <div class="row">
        {props.chooseApplication && (
          <SelectField
            label="Application"
            value={applicationId}
            onValue={setApplicationId}
            options={props.applications.map((a) => ({ value: a.id, label: a.name }))}
          />
        )}
        {props.chooseService && (
          <SelectField
            label="Service"
            value={serviceId}
            onValue={setServiceId}
            options={props.services.map((s) => ({ value: s.id, label: s.internal ? `${s.name} (internal, test mode)` : s.name }))}
            error={fieldError(error, 'serviceId')}
          />
        )}
        <SelectField
          label="Pricing plan"
          value={planId}
          onValue={setPlanId}
          options={(service?.plans ?? []).map((p) => ({
            value: p.id,
            label: `${p.name}: ${p.products.map((x) => productSummary(x, p.currency)).join('; ') || 'free'}`,
          }))}
          error={fieldError(error, 'pricingPlanId')}
        />
      </div>
      {service && service.plans.length === 0 && <p class="hint">This service has no pricing plan yet.</p>}
      {plan && (
        <p class="hint">
          Limits of {plan.name}: {limitsInWords(plan.limits).join(' ') || 'none.'}
        </p>
      )}
      <ProblemMessage error={error} />
      <button type="submit" disabled={subscribing.busy || !planId || !applicationId}>
        {subscribing.busy ? 'Subscribing…' : 'Subscribe'}
      </button>
    </form>
  );
}
