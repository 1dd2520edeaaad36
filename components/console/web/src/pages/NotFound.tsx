// An address the console has no page for.
import { Link } from '../router';
import { PageHeading, usePageTitle } from '../ui';

export function NotFoundPage() {
  usePageTitle('Not found');
  return (
    <section>
      <PageHeading>Page not found</PageHeading>
      <p>
        There is no page at this address. Go to <Link href="/services">My services</Link> or the{' '}
        <Link href="/marketplace">Marketplace</Link>.
      </p>
    </section>
  );
}
