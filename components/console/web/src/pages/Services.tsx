// My services: the signed-in provider's services.
import { api } from '../api';
import { Link } from '../router';
import { DataTable, Empty, LIFECYCLE_LABEL, PageHeading, Pending, Time, useLoad, usePageTitle } from '../ui';

export function ServicesPage() {
  usePageTitle('My services');
  const services = useLoad(() => api.services(), []);
  return (
    <section>
      <PageHeading
        actions={
          <Link href="/services/new" class="button">
            Create service
          </Link>
        }
      >
        My services
      </PageHeading>
      {!services.data ? (
        <Pending loaded={services} what="Loading your services" />
      ) : services.data.items.length === 0 ? (
        <Empty>
          <p>You have no services yet.</p>
          <p>
            <Link href="/services/new">Create a service</Link>: an external one that runs on your own servers, or a
            managed one whose code the platform runs. Then add a pricing plan and publish it.
          </p>
        </Empty>
      ) : (
        <DataTable caption="Your services" columns={['Name', 'Type', 'Quantum backend', 'Lifecycle', 'Updated']}>
          <tbody>
            {services.data.items.map((s) => (
              <tr key={s.id}>
                <td>
                  <Link href={`/services/${s.id}`}>{s.name}</Link>
                </td>
                <td>{s.type === 'EXTERNAL' ? 'External' : 'Managed'}</td>
                <td>{s.quantumBackend}</td>
                <td>
                  <span class={`badge ${s.lifecycle.toLowerCase()}`}>{LIFECYCLE_LABEL[s.lifecycle]}</span>
                </td>
                <td>
                  <Time iso={s.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      )}
    </section>
  );
}
