// The services an application can subscribe to: the marketplace's, and the
// caller's own that are published internally (subscribed in test mode).
import { api, type PricingPlan } from '../api';

/** A service one may subscribe to, with its plans. */
export interface Subscribable {
  id: string;
  name: string;
  type: 'EXTERNAL' | 'MANAGED';
  plans: PricingPlan[];
  /** The caller's own service, published internally only: test mode. */
  internal: boolean;
}

/** Every service the signed-in account may subscribe an application to, by name. */
export async function subscribableServices(): Promise<Subscribable[]> {
  const [own, market] = await Promise.all([api.services(), api.marketplace({})]);
  const byId = new Map<string, Subscribable>();
  for (const s of market.items) {
    byId.set(s.id, { id: s.id, name: s.name, type: s.type, plans: s.pricingPlans, internal: false });
  }
  const internal = own.items.filter((s) => s.lifecycle === 'ACCESSIBLE' && !byId.has(s.id));
  const plans = await Promise.all(internal.map((s) => api.pricingPlans(s.id)));
  internal.forEach((s, i) => byId.set(s.id, { id: s.id, name: s.name, type: s.type, plans: plans[i].items, internal: true }));
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}
