// A service's metering events, newest first: filters for a time range and
// test mode, and paging through the listing's cursors.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { DataTable, Empty, FilterActions, Pending, SelectField, TextField, Time, useLoad } from '../ui';

const PAGE_SIZE = 20;

/** A `datetime-local` value as an RFC 3339 timestamp (empty stays empty). */
function toTimestamp(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}

interface Filters {
  from: string;
  to: string;
  testMode: '' | 'true' | 'false';
}

export function MeteringEvents({ serviceId }: { serviceId: string }) {
  const [draft, setDraft] = useState<Filters>({ from: '', to: '', testMode: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  // The cursors of the pages before the current one; the last is the current page's.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const events = useLoad(
    () =>
      api.meteringEvents(serviceId, {
        from: toTimestamp(filters.from),
        to: toTimestamp(filters.to),
        testMode: filters.testMode === '' ? undefined : filters.testMode === 'true',
        cursor,
        limit: PAGE_SIZE,
      }),
    [serviceId, filters, cursor],
  );

  const apply = (event: Event) => {
    event.preventDefault();
    setFilters(draft);
    setCursors([undefined]);
  };

  return (
    <section aria-labelledby="metering-heading">
      <h2 id="metering-heading">Metering events</h2>
      <form class="filters" onSubmit={apply} aria-label="Filter metering events">
        <TextField label="From" type="datetime-local" value={draft.from} onValue={(from) => setDraft({ ...draft, from })} />
        <TextField label="To" type="datetime-local" value={draft.to} onValue={(to) => setDraft({ ...draft, to })} />
        <SelectField
          label="Mode"
          value={draft.testMode}
          onValue={(v) => setDraft({ ...draft, testMode: v as Filters['testMode'] })}
          options={[
            { value: '', label: 'Test and live' },
            { value: 'true', label: 'Test mode only' },
            { value: 'false', label: 'Live only' },
          ]}
        />
        <FilterActions onRefresh={() => events.reload()} />
      </form>
      {!events.data ? (
        <Pending loaded={events} what="Loading metering events" />
      ) : events.data.items.length === 0 ? (
        <Empty>
          <p>No metering events{cursors.length > 1 ? ' on this page' : ' in this range'}.</p>
          <p>
            Your service reports usage with <code>POST /qc-catalog/external-services/metering</code>, naming the call's{' '}
            <code>x-correlation-id</code> and a product id of its plan. Call it through an application's Try it out to see
            test events here.
          </p>
        </Empty>
      ) : (
        <DataTable caption="Metering events, newest first" columns={['Time', 'Product', 'Count', 'Unit price', 'Amount', 'Mode', 'Correlation id', 'Application']}>
          <tbody>
            {events.data.items.map((e) => (
              <tr key={e.id}>
                <td>
                  <Time iso={e.timestamp} />
                </td>
                <td>{e.productName}</td>
                <td class="num">
                  {e.count} {e.unit}
                </td>
                <td class="num">
                  {e.unitPrice} {e.currency}
                </td>
                <td class="num">
                  {e.amount} {e.currency}
                </td>
                <td>{e.testMode ? 'Test' : 'Live'}</td>
                <td>
                  <code class="id">{e.correlationId}</code>
                </td>
                <td>
                  <code class="id">{e.applicationId}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      )}
      <nav class="pager" aria-label="Metering events pages">
        <button type="button" class="secondary" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer events
        </button>
        <span>Page {cursors.length}</span>
        <button
          type="button"
          class="secondary"
          disabled={!events.data?.nextCursor}
          onClick={() => events.data?.nextCursor && setCursors([...cursors, events.data.nextCursor])}
        >
          Older events
        </button>
      </nav>
    </section>
  );
}
