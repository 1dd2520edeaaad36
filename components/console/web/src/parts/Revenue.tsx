// A service's revenue of one month, for its provider: the month's invoice
// total of every subscription, the live ones and the test-mode ones
// (internal publication, not billed) apart, each with their exact sum.
// Loaded on demand with the service's page.
import { useState } from 'preact/hooks';
import { api, type Revenue as RevenueView, type Service } from '../api';
import { DataTable, Empty, fieldError, formatTime, monthName, Pending, SelectField, TotalRow, useLoad } from '../ui';

/** The months from `since` (an RFC 3339 time) to now, newest first, as `YYYY-MM` (UTC). */
export function monthsSince(since: string, now = new Date()): string[] {
  const months: string[] = [];
  let year = now.getUTCFullYear();
  let month = now.getUTCMonth() + 1;
  const first = since.slice(0, 7);
  for (let n = 0; n < 240; n++) {
    const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    months.push(text);
    if (text <= first) break;
    month -= 1;
    if (month === 0) {
      month = 12;
      year -= 1;
    }
  }
  return months;
}

function SubscriptionsTable({ caption, revenue, testMode, total }: { caption: string; revenue: RevenueView; testMode: boolean; total: string }) {
  const rows = revenue.subscriptions.filter((s) => s.testMode === testMode);
  if (rows.length === 0) {
    return (
      <Empty>
        <p>{testMode ? 'No test-mode subscription in this month.' : 'No live subscription in this month.'}</p>
      </Empty>
    );
  }
  return (
    <DataTable caption={caption} showCaption class="bill" columns={['Subscription', 'Application', 'Plan', 'Invoice total']}>
      <tbody>
        {rows.map((s) => (
          <tr key={s.subscriptionId}>
            <td>
              <code class="id">{s.subscriptionId}</code>
            </td>
            <td>
              <code class="id">{s.applicationId}</code>
            </td>
            <td>{s.pricingPlanName}</td>
            <td class="num">
              {s.total} {revenue.currency}
            </td>
          </tr>
        ))}
      </tbody>
      <TotalRow span={3} amount={total} currency={revenue.currency} />
    </DataTable>
  );
}

export function Revenue({ service }: { service: Service }) {
  const months = monthsSince(service.createdAt);
  const [month, setMonth] = useState(months[0]);
  const revenue = useLoad(() => api.revenue(service.id, month), [service.id, month]);
  const r = revenue.data;
  return (
    <section aria-labelledby="revenue-heading">
      <h2 id="revenue-heading">Revenue</h2>
      <p class="hint">
        What the service’s subscriptions were invoiced for in a calendar month (UTC). Test-mode subscriptions (of your own
        applications while the service is published internally) are not billed, and are summed apart.
      </p>
      <div class="filters">
        <SelectField
          label="Month"
          value={month}
          onValue={setMonth}
          options={months.map((m) => ({ value: m, label: `${monthName(m)} (${m})` }))}
          error={fieldError(revenue.error, 'month')}
        />
      </div>
      {!r || r.month !== month ? (
        <Pending loaded={revenue} what="Loading the revenue" />
      ) : (
        <>
          <dl class="facts">
            <div>
              <dt>Revenue of {monthName(r.month)}</dt>
              <dd>
                <strong>
                  {r.total} {r.currency}
                </strong>
              </dd>
            </div>
            <div>
              <dt>Test mode (not billed)</dt>
              <dd>
                {r.testModeTotal} {r.currency}
              </dd>
            </div>
            <div>
              <dt>Status</dt>
              <dd>{r.status === 'OPEN' ? `Open until ${formatTime(r.finalAt)}: it may still grow` : `Final since ${formatTime(r.finalAt)}`}</dd>
            </div>
          </dl>
          <SubscriptionsTable caption="Live subscriptions" revenue={r} testMode={false} total={r.total} />
          <SubscriptionsTable caption="Test-mode subscriptions" revenue={r} testMode total={r.testModeTotal} />
        </>
      )}
    </section>
  );
}
