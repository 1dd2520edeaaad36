// The console's shell: the navigation that shows where you are, and the
// page of the current address.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { session } from './session';
import { Link, match, navigate, useLocation } from './router';
import { SignInPage } from './pages/SignIn';
import { ServicesPage } from './pages/Services';
import { ServiceFormPage } from './pages/ServiceForm';
import { ServicePage } from './pages/Service';
import { ApplicationsPage } from './pages/Applications';
import { ApplicationPage } from './pages/Application';
import { TryItOutPage } from './pages/TryItOut';
import { MarketplacePage, MarketplaceServicePage } from './pages/Marketplace';
import { UsagePage } from './pages/Usage';
import { AccessTokensPage } from './pages/AccessTokens';
import { NotFoundPage } from './pages/NotFound';
import { lazy } from './ui';
import './styles.css';

// A subscription's billing pages load on demand: the first load stays small.
const billing = () => import('./pages/Billing');
const SubscriptionBillingPage = lazy(() => billing().then((m) => m.SubscriptionBillingPage), 'Loading the page');
const InvoicePage = lazy(() => billing().then((m) => m.InvoicePage), 'Loading the page');
const CallPage = lazy(() => billing().then((m) => m.CallPage), 'Loading the page');

const NAV = [
  { href: '/services', label: 'My services' },
  { href: '/applications', label: 'Applications' },
  { href: '/marketplace', label: 'Marketplace' },
  { href: '/usage', label: 'Usage' },
  { href: '/access-tokens', label: 'Access tokens' },
];

/** The page at `path` for a signed-in account. */
function page(path: string) {
  let p: Record<string, string> | null;
  if (path === '/' || path === '/services') return <ServicesPage />;
  if (path === '/services/new') return <ServiceFormPage />;
  if ((p = match('/services/:id/edit', path))) return <ServiceFormPage id={p.id} />;
  if ((p = match('/services/:id', path))) return <ServicePage id={p.id} />;
  if (path === '/applications') return <ApplicationsPage />;
  if ((p = match('/applications/:id', path))) return <ApplicationPage id={p.id} />;
  if ((p = match('/applications/:id/subscriptions/:sub/try', path)))
    return <TryItOutPage applicationId={p.id} subscriptionId={p.sub} />;
  if ((p = match('/applications/:id/subscriptions/:sub', path)))
    return <SubscriptionBillingPage applicationId={p.id} subscriptionId={p.sub} />;
  if ((p = match('/applications/:id/subscriptions/:sub/invoices/:month', path)))
    return <InvoicePage applicationId={p.id} subscriptionId={p.sub} month={p.month} />;
  if ((p = match('/applications/:id/subscriptions/:sub/calls/:call', path)))
    return <CallPage applicationId={p.id} subscriptionId={p.sub} correlationId={p.call} />;
  if (path === '/marketplace') return <MarketplacePage />;
  if ((p = match('/marketplace/:id', path))) return <MarketplaceServicePage id={p.id} />;
  if (path === '/usage') return <UsagePage />;
  if (path === '/access-tokens') return <AccessTokensPage />;
  return <NotFoundPage />;
}

/** Where to go after signing in: the page asked for (a same-origin path only), else My services. */
function afterSignIn(query: URLSearchParams): string {
  const next = query.get('next') ?? '';
  return next.startsWith('/') && !next.startsWith('//') && next !== '/sign-in' ? next : '/services';
}

function App() {
  const { path, query } = useLocation();
  const [signedIn, setSignedIn] = useState(() => session.token() !== null);
  useEffect(() => session.subscribe(() => setSignedIn(session.token() !== null)), []);
  useEffect(() => {
    if (!signedIn && path !== '/sign-in') {
      const asked = path === '/' ? '' : `?next=${encodeURIComponent(path + window.location.search)}`;
      navigate(`/sign-in${asked}`, true);
    }
    if (signedIn && path === '/sign-in') navigate(afterSignIn(query), true);
  }, [signedIn, path]);

  const current = (href: string) => path === href || path.startsWith(`${href}/`) || (href === '/services' && path === '/');
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href={signedIn ? '/services' : '/sign-in'} class="brand">
          <span aria-hidden="true">◎</span> qmarket
        </Link>
        {signedIn && (
          <nav aria-label="Main">
            <ul>
              {NAV.map((item) => (
                <li key={item.href}>
                  <Link href={item.href} aria-current={current(item.href) ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              ))}
              <li>
                <button
                  type="button"
                  class="link"
                  onClick={() => {
                    session.signOut();
                    navigate('/sign-in', true);
                  }}
                >
                  Sign out
                </button>
              </li>
            </ul>
          </nav>
        )}
      </header>
      <main id="main">{signedIn ? (path === '/sign-in' ? null : page(path)) : <SignInPage />}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
