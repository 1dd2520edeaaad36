// Usage: for every subscription of the account's applications, a chart of
// usage per day and product, and the exact bill of the period with its lines
// (and each line's tiers); a link to the subscription's invoices, calls and
// spend cap.
import { useState } from 'preact/hooks';
import { api, type Application, type Subscription, type Usage } from '../api';
import { Link } from '../router';
import { subscribableServices, type Subscribable } from '../parts/catalog';
import { UsageChart, type DailyUsage } from '../parts/UsageChart';
import { BillTable } from '../parts/BillTable';
import { Empty, PageHeading, Pending, SelectField, useLoad, usePageTitle } from '../ui';

/** The last `days` UTC dates, oldest first, as `YYYY-MM-DD`. */
export function lastDays(days: number, now = new Date()): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: days }, (_, i) => new Date(today - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

interface SubscriptionUsage {
  bill: Usage;
  daily: DailyUsage[];
}

async function loadUsage(subscriptionId: string, days: string[]): Promise<SubscriptionUsage> {
  const from = days[0];
  const to = days[days.length - 1];
  const [bill, ...perDay] = await Promise.all([
    api.usage(subscriptionId, { from, to }),
    ...days.map((day) => api.usage(subscriptionId, { from: day, to: day })),
  ]);
  return { bill, daily: perDay.map((usage, i) => ({ day: days[i], lines: usage.lines })) };
}

function SubscriptionUsageCard({
  subscription,
  application,
  service,
  days,
}: {
  subscription: Subscription;
  application: Application;
  service?: Subscribable;
  days: string[];
}) {
  const usage = useLoad(() => loadUsage(subscription.id, days), [subscription.id, days.join()]);
  const serviceName = service?.name ?? subscription.serviceId;
  const headingId = `usage-${subscription.id}`;
  return (
    <article class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {serviceName} <span class="hint">via {application.name}</span>
        {subscription.testMode && <span class="badge accessible">Test mode</span>}
      </h2>
      <p>
        <Link href={`/applications/${application.id}/subscriptions/${subscription.id}`} aria-label={`Invoices, calls and spend cap: ${serviceName} via ${application.name}`}>
          Invoices, calls and spend cap
        </Link>
      </p>
      {!usage.data ? (
        <Pending loaded={usage} what="Loading usage" />
      ) : (
        <>
          <UsageChart daily={usage.data.daily} title={`Usage of ${serviceName} per day`} />
          <BillTable
            caption={
              <>
                Bill from {usage.data.bill.from.slice(0, 10)} to {usage.data.bill.to.slice(0, 10)} (exclusive)
              </>
            }
            lines={usage.data.bill.lines}
            currency={usage.data.bill.currency}
            total={usage.data.bill.total}
          />
        </>
      )}
    </article>
  );
}

async function loadSubscriptions(): Promise<{ application: Application; subscription: Subscription }[]> {
  const apps = await api.applications();
  const lists = await Promise.all(apps.items.map((a) => api.subscriptions(a.id)));
  return apps.items.flatMap((application, i) => lists[i].items.map((subscription) => ({ application, subscription })));
}

export function UsagePage() {
  usePageTitle('Usage');
  const [period, setPeriod] = useState('7');
  const days = lastDays(Number(period));
  const subscriptions = useLoad(loadSubscriptions, []);
  const services = useLoad(() => subscribableServices(), []);

  return (
    <section>
      <PageHeading>Usage</PageHeading>
      <div class="filters">
        <SelectField
          label="Period"
          value={period}
          onValue={setPeriod}
          options={[
            { value: '7', label: 'Last 7 days' },
            { value: '14', label: 'Last 14 days' },
            { value: '30', label: 'Last 30 days' },
          ]}
        />
      </div>
      {!subscriptions.data ? (
        <Pending loaded={subscriptions} what="Loading subscriptions" />
      ) : subscriptions.data.length === 0 ? (
        <Empty>
          <p>
            No subscriptions yet, so no usage. Subscribe an <Link href="/applications">application</Link> to a service
            from the <Link href="/marketplace">marketplace</Link>, call it, and its usage shows here.
          </p>
        </Empty>
      ) : (
        subscriptions.data.map(({ application, subscription }) => (
          <SubscriptionUsageCard
            key={subscription.id}
            application={application}
            subscription={subscription}
            service={services.data?.find((s) => s.id === subscription.serviceId)}
            days={days}
          />
        ))
      )}
    </section>
  );
}
