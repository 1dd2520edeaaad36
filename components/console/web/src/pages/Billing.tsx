// A subscription's billing, for its subscriber: the plan and limits it was
// made under, its monthly spend cap (show, set, remove), its monthly
// invoices (each with its lines, tier by tier, and its events as CSV), and
// its gateway calls with the metering events each caused and their cost.
// Loaded on demand: the first load of the console does not carry it.
import { useState } from 'preact/hooks';
import { api, type Application, type Call, type PricingPlan, type SpendCap, type Subscription } from '../api';
import { Link } from '../router';
import { BillTable } from '../parts/BillTable';
import { PlanLimitsText, ProductPrice } from '../parts/PricingPlans';
import {
  CopyButton,
  DataTable,
  Empty,
  FilterActions,
  fieldError,
  formatTime,
  monthName,
  PageHeading,
  Pager,
  Pending,
  ProblemMessage,
  saveFile,
  TextField,
  Time,
  TotalRow,
  useAction,
  useLoad,
  usePages,
  usePageTitle,
  type Loaded,
} from '../ui';

const CALLS_PER_PAGE = 10;
const INVOICES_PER_PAGE = 12;

/** What the billing pages of a subscription show around it. */
interface Context {
  app: Application;
  subscription: Subscription;
  plan?: PricingPlan;
  serviceName: string;
  base: string;
}

/**
 * Loads the application and the subscription, or says why not. The
 * subscription carries its service's name and its plan, also once the
 * service has left the marketplace.
 */
function useSubscriptionContext(applicationId: string, subscriptionId: string): { context?: Context; pending?: Loaded<unknown> } {
  const app = useLoad(() => api.application(applicationId), [applicationId]);
  const subscription = useLoad(() => api.subscription(subscriptionId), [subscriptionId]);
  if (!app.data) return { pending: app };
  if (!subscription.data) return { pending: subscription };
  const sub = subscription.data;
  return {
    context: {
      app: app.data,
      subscription: sub,
      plan: sub.pricingPlan,
      serviceName: sub.serviceName ?? sub.serviceId,
      base: `/applications/${applicationId}/subscriptions/${subscriptionId}`,
    },
  };
}

function Breadcrumb({ context, here }: { context: Context; here?: string }) {
  const { app, serviceName, base } = context;
  return (
    <p class="breadcrumb">
      <Link href="/applications">Applications</Link> / <Link href={`/applications/${app.id}`}>{app.name}</Link> /{' '}
      {here ? <Link href={base}>Billing of {serviceName}</Link> : <>Billing of {serviceName}</>}
      {here && <> / {here}</>}
    </p>
  );
}

// ------------------------------------------------------------ spend cap

function SpendCapSection({ subscriptionId }: { subscriptionId: string }) {
  const loaded = useLoad(() => api.spendCap(subscriptionId), [subscriptionId]);
  const [changed, setChanged] = useState<SpendCap | null>(null);
  const [amount, setAmount] = useState('');
  const [said, setSaid] = useState('');
  const saving = useAction();
  const cap = changed ?? loaded.data;

  const set = (event: Event) => {
    event.preventDefault();
    setSaid('');
    saving.run(async () => {
      const now = await api.setSpendCap(subscriptionId, amount.trim());
      setChanged(now);
      setAmount('');
      setSaid(`The monthly cap is now ${now.monthlyCap} ${now.currency}.`);
    });
  };
  const remove = () => {
    setSaid('');
    saving.run(async () => {
      await api.removeSpendCap(subscriptionId);
      setChanged(await api.spendCap(subscriptionId));
      setSaid('The monthly cap is removed.');
    });
  };

  return (
    <section aria-labelledby="cap-heading">
      <h2 id="cap-heading">Spend cap</h2>
      <p>
        A spend cap limits what this subscription may cost in a calendar month (UTC). Once the month’s bill reaches the
        cap, the gateway answers the subscription’s calls with <strong>402 Payment Required</strong> until the next
        month or a higher cap. Usage reported for calls already admitted still counts.
      </p>
      {!cap ? (
        <Pending loaded={loaded} what="Loading the spend cap" />
      ) : (
        <>
          <dl class="facts">
            <div>
              <dt>Month</dt>
              <dd>{monthName(cap.month)}</dd>
            </div>
            <div>
              <dt>Spent this month</dt>
              <dd>
                {cap.spent} {cap.currency}
              </dd>
            </div>
            <div>
              <dt>Monthly cap</dt>
              <dd>{cap.monthlyCap === null ? 'None' : `${cap.monthlyCap} ${cap.currency}`}</dd>
            </div>
            <div>
              <dt>Calls</dt>
              <dd>
                {cap.reached ? (
                  <strong class="bad">Refused with 402: this month’s bill reached the cap</strong>
                ) : cap.monthlyCap === null ? (
                  'Admitted: no cap'
                ) : (
                  'Admitted: below the cap'
                )}
              </dd>
            </div>
          </dl>
          <form class="inline-form" onSubmit={set} aria-label="Set the monthly spend cap" noValidate>
            <TextField
              label="Monthly cap (EUR)"
              value={amount}
              onValue={setAmount}
              inputMode="decimal"
              placeholder="25"
              hint="An amount of 0 or more; a cap below this month’s spending stops calls at once."
              error={fieldError(saving.error, 'monthlyCap')}
            />
            <button type="submit" disabled={saving.busy}>
              {cap.monthlyCap === null ? 'Set cap' : 'Change cap'}
            </button>
            {cap.monthlyCap !== null && (
              <button type="button" class="secondary" disabled={saving.busy} onClick={remove}>
                Remove cap
              </button>
            )}
            <ProblemMessage error={saving.error} />
          </form>
        </>
      )}
      <p role="status">{said}</p>
    </section>
  );
}

// ------------------------------------------------------------ invoices

function InvoicesSection({ context }: { context: Context }) {
  const pages = usePages();
  const id = context.subscription.id;
  const invoices = useLoad(() => api.invoices(id, { cursor: pages.cursor, limit: INVOICES_PER_PAGE }), [id, pages.cursor]);
  return (
    <section aria-labelledby="invoices-heading">
      <h2 id="invoices-heading">Invoices</h2>
      <p class="hint">
        One invoice per calendar month (UTC). An invoice is open until two days after its month by default, then final:
        the service can no longer report usage for that month, and the invoice never changes.
      </p>
      {!invoices.data ? (
        <Pending loaded={invoices} what="Loading invoices" />
      ) : invoices.data.items.length === 0 ? (
        <Empty>
          <p>No invoices yet.</p>
        </Empty>
      ) : (
        <DataTable caption="Invoices, newest month first" columns={['Month', 'Status', 'Total']}>
          <tbody>
            {invoices.data.items.map((inv) => (
              <tr key={inv.month}>
                <td>
                  <Link href={`${context.base}/invoices/${inv.month}`}>{monthName(inv.month)}</Link>
                </td>
                <td>
                  {inv.status === 'OPEN' ? (
                    <>
                      <span class="badge accessible">Open</span> until <Time iso={inv.finalAt} />
                    </>
                  ) : (
                    <>
                      <span class="badge published">Final</span> since <Time iso={inv.finalAt} />
                    </>
                  )}
                </td>
                <td class="num">
                  {inv.total} {inv.currency}
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      )}
      <Pager pages={pages} next={invoices.data?.nextCursor} label="Invoice pages" what="invoices" />
    </section>
  );
}

// ------------------------------------------------------------ calls

/** A call's metering events in words: "1 call of API: 0.01 EUR". */
function CallUsage({ call }: { call: Call }) {
  if (call.events.length === 0) return <span class="hint">No usage reported</span>;
  return (
    <ul class="plain">
      {call.events.map((e) => (
        <li key={e.id}>
          {e.count} {e.unit} of {e.productName}: {e.amount} {call.currency}
        </li>
      ))}
    </ul>
  );
}

/** A call's status, with a word when the answer was cut off. */
function callStatus(call: Call): string {
  return call.complete ? String(call.status) : `${call.status} (answer cut off)`;
}

function CallsSection({ context }: { context: Context }) {
  const id = context.subscription.id;
  const [draft, setDraft] = useState({ from: '', to: '' });
  const [filters, setFilters] = useState(draft);
  const pages = usePages();
  const calls = useLoad(
    () => api.calls(id, { from: filters.from, to: filters.to, cursor: pages.cursor, limit: CALLS_PER_PAGE }),
    [id, filters, pages.cursor],
  );
  const apply = (event: Event) => {
    event.preventDefault();
    setFilters(draft);
    pages.reset();
  };
  return (
    <section aria-labelledby="calls-heading">
      <h2 id="calls-heading">Calls</h2>
      <p class="hint">
        The subscription’s calls through the gateway, newest first, each with the usage the service reported for it and
        what the bill charges for that usage. A call shows here moments after its answer. Days are UTC dates, both
        included; without dates, the current calendar month.
      </p>
      <form class="filters" onSubmit={apply} aria-label="Filter calls" noValidate>
        <TextField
          label="From"
          type="date"
          value={draft.from}
          onValue={(from) => setDraft({ ...draft, from })}
          error={fieldError(calls.error, 'from')}
        />
        <TextField label="To" type="date" value={draft.to} onValue={(to) => setDraft({ ...draft, to })} error={fieldError(calls.error, 'to')} />
        <FilterActions onRefresh={() => calls.reload()} />
      </form>
      {!calls.data ? (
        <Pending loaded={calls} what="Loading calls" />
      ) : calls.data.items.length === 0 ? (
        <Empty>
          <p>No calls{pages.number > 1 ? ' on this page' : ' in this range'}.</p>
          <p>Calls through the gateway with this application’s token show up here, with what each cost.</p>
        </Empty>
      ) : (
        <DataTable
          caption="Calls, newest first"
          class="calls"
          columns={['Started', 'Request', 'Status', 'Duration', 'Body bytes', 'Usage', 'Cost', 'Correlation id']}
        >
          <tbody>
            {calls.data.items.map((c) => (
              <tr key={c.correlationId}>
                <td>
                  <Time iso={c.startedAt} />
                </td>
                <td>
                  <code>
                    {c.method} {c.path}
                  </code>
                </td>
                <td class={c.status < 400 ? 'ok' : 'bad'}>{callStatus(c)}</td>
                <td class="num">{c.durationMs} ms</td>
                <td class="num">
                  {c.requestBytes} sent, {c.responseBytes} received
                </td>
                <td>
                  <CallUsage call={c} />
                </td>
                <td class="num">
                  {c.amount} {c.currency}
                </td>
                <td>
                  <Link href={`${context.base}/calls/${encodeURIComponent(c.correlationId)}`}>
                    <code class="id">{c.correlationId}</code>
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      )}
      <Pager pages={pages} next={calls.data?.nextCursor} label="Call pages" what="calls" />
    </section>
  );
}

// ------------------------------------------------------------ the pages

export function SubscriptionBillingPage({ applicationId, subscriptionId }: { applicationId: string; subscriptionId: string }) {
  const { context, pending } = useSubscriptionContext(applicationId, subscriptionId);
  usePageTitle(context ? `Billing of ${context.serviceName}` : 'Billing');
  if (!context) return <Pending loaded={pending!} what="Loading the subscription" />;
  const { app, subscription: sub, plan, serviceName } = context;
  return (
    <section>
      <Breadcrumb context={context} />
      <PageHeading
        actions={
          <Link href={`${context.base}/try`} class="button secondary">
            Try it out
          </Link>
        }
      >
        Billing of {serviceName}
      </PageHeading>
      <dl class="facts">
        <div>
          <dt>Application</dt>
          <dd>{app.name}</dd>
        </div>
        <div>
          <dt>Pricing plan</dt>
          <dd>{plan?.name ?? sub.pricingPlanId}</dd>
        </div>
        <div>
          <dt>Mode</dt>
          <dd>{sub.testMode ? 'Test mode (the service is published internally)' : 'Live'}</dd>
        </div>
        <div>
          <dt>Since</dt>
          <dd>
            <Time iso={sub.createdAt} />
          </dd>
        </div>
      </dl>
      <section aria-labelledby="pricing-heading">
        <h2 id="pricing-heading">Pricing and limits</h2>
        {plan && plan.products.length > 0 && (
          <ul class="plain products">
            {plan.products.map((p) => (
              <li key={p.id}>
                <strong>{p.name}</strong>: <ProductPrice product={p} currency={plan.currency} />
              </li>
            ))}
          </ul>
        )}
        <h3>Limits of this subscription</h3>
        <PlanLimitsText limits={sub.limits} />
      </section>
      <SpendCapSection subscriptionId={sub.id} />
      <InvoicesSection context={context} />
      <CallsSection context={context} />
    </section>
  );
}

export function InvoicePage({ applicationId, subscriptionId, month }: { applicationId: string; subscriptionId: string; month: string }) {
  const { context, pending } = useSubscriptionContext(applicationId, subscriptionId);
  const invoice = useLoad(() => api.invoice(subscriptionId, month), [subscriptionId, month]);
  const downloading = useAction();
  usePageTitle(`Invoice ${month}`);
  if (!context) return <Pending loaded={pending!} what="Loading the subscription" />;
  const heading = `Invoice ${monthName(month)}: ${context.serviceName}`;
  if (!invoice.data) {
    return (
      <section>
        <Breadcrumb context={context} here={`Invoice ${month}`} />
        <PageHeading>{heading}</PageHeading>
        <Pending loaded={invoice} what="Loading the invoice" />
      </section>
    );
  }
  const inv = invoice.data;
  const download = () =>
    downloading.run(async () => {
      const file = await api.invoiceEvents(subscriptionId, month);
      saveFile(file.blob, file.filename);
    });
  return (
    <section>
      <Breadcrumb context={context} here={`Invoice ${month}`} />
      <PageHeading
        actions={
          <button type="button" class="secondary" disabled={downloading.busy} onClick={download}>
            {downloading.busy ? 'Downloading…' : 'Download events (CSV)'}
          </button>
        }
      >
        {heading}
      </PageHeading>
      <ProblemMessage error={downloading.error} />
      <dl class="facts">
        <div>
          <dt>Status</dt>
          <dd>
            {inv.status === 'OPEN' ? (
              <>
                <span class="badge accessible">Open</span> — usage may still be reported until {formatTime(inv.finalAt)}
              </>
            ) : (
              <>
                <span class="badge published">Final</span> since {formatTime(inv.finalAt)}: it no longer changes
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Period (UTC)</dt>
          <dd>
            {inv.from.slice(0, 10)} to {inv.to.slice(0, 10)} (exclusive)
          </dd>
        </div>
        <div>
          <dt>Application</dt>
          <dd>{context.app.name}</dd>
        </div>
        <div>
          <dt>Mode</dt>
          <dd>{inv.testMode ? 'Test mode' : 'Live'}</dd>
        </div>
        <div>
          <dt>Total</dt>
          <dd>
            <strong>
              {inv.total} {inv.currency}
            </strong>
          </dd>
        </div>
      </dl>
      <BillTable caption={`Lines of the invoice for ${monthName(month)}`} lines={inv.lines} currency={inv.currency} total={inv.total} empty="No usage in this month." />
      <p class="hint">
        The events file lists every metering event of the month with what it cost (its share of the product’s tiers, in
        the order the events came in), so its amounts add up to the total.
      </p>
    </section>
  );
}

export function CallPage({ applicationId, subscriptionId, correlationId }: { applicationId: string; subscriptionId: string; correlationId: string }) {
  const { context, pending } = useSubscriptionContext(applicationId, subscriptionId);
  const call = useLoad(() => api.call(subscriptionId, correlationId), [subscriptionId, correlationId]);
  usePageTitle('Call');
  if (!context) return <Pending loaded={pending!} what="Loading the subscription" />;
  if (!call.data) {
    return (
      <section>
        <Breadcrumb context={context} here="Call" />
        <PageHeading>Call to {context.serviceName}</PageHeading>
        <Pending loaded={call} what="Loading the call" />
      </section>
    );
  }
  const c = call.data;
  return (
    <section>
      <Breadcrumb context={context} here="Call" />
      <PageHeading>
        Call {c.method} {c.path}
      </PageHeading>
      <dl class="facts">
        <div>
          <dt>Correlation id</dt>
          <dd>
            <code class="id">{c.correlationId}</code> <CopyButton text={c.correlationId} label="Copy correlation id" />
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            <Time iso={c.startedAt} />
          </dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>{callStatus(c)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{c.durationMs} ms</dd>
        </div>
        <div>
          <dt>Request body</dt>
          <dd>{c.requestBytes} bytes</dd>
        </div>
        <div>
          <dt>Response body</dt>
          <dd>{c.responseBytes} bytes</dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>
            <strong>
              {c.amount} {c.currency}
            </strong>
          </dd>
        </div>
      </dl>
      <h2>Metering events</h2>
      {c.events.length === 0 ? (
        <Empty>
          <p>The service reported no usage for this call.</p>
        </Empty>
      ) : (
        <DataTable caption="Metering events of the call" columns={['Time', 'Product', 'Count', 'Cost', 'Event id']}>
          <tbody>
            {c.events.map((e) => (
              <tr key={e.id}>
                <td>
                  <Time iso={e.timestamp} />
                </td>
                <td>{e.productName}</td>
                <td class="num">
                  {e.count} {e.unit}
                </td>
                <td class="num">
                  {e.amount} {c.currency}
                </td>
                <td>
                  <code class="id">{e.id}</code>
                </td>
              </tr>
            ))}
          </tbody>
          <TotalRow span={3} amount={c.amount} currency={c.currency} trailing={1} />
        </DataTable>
      )}
      <p class="hint">
        What an event costs follows the product’s pricing: the share of the month’s tiers (and free allowance) its units
        fall into, in the order the month’s events came in.
      </p>
    </section>
  );
}
