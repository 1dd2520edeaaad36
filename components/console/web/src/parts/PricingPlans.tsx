// A service's pricing plans and their products, as a table per plan, with
// a copy button for each product id (the id a service meters with).
import type { PricingPlan } from '../api';
import { CopyButton, DataTable, Empty } from '../ui';
import type { ComponentChildren } from 'preact';

export function PricingPlans({
  plans,
  empty,
  actions,
}: {
  plans: PricingPlan[];
  empty: ComponentChildren;
  actions?: (plan: PricingPlan) => ComponentChildren;
}) {
  if (plans.length === 0) return <Empty>{empty}</Empty>;
  return (
    <div class="plans">
      {plans.map((plan) => (
        <article class="card" key={plan.id} aria-labelledby={`plan-${plan.id}`}>
          <div class="card-heading">
            <h3 id={`plan-${plan.id}`}>
              {plan.name} <span class="badge">{plan.type === 'FREE' ? 'Free' : 'Commercial'}</span>
            </h3>
            {actions?.(plan)}
          </div>
          {plan.products.length === 0 ? (
            <p class="hint">No products: every call is free.</p>
          ) : (
            <DataTable caption={`Products of ${plan.name}`} columns={['Product', 'Unit price', 'Unit', 'Product id']}>
              <tbody>
                {plan.products.map((p) => (
                  <tr key={p.id}>
                    <td>{p.name}</td>
                    <td class="num">
                      {p.unitPrice} {plan.currency}
                    </td>
                    <td>{p.unit}</td>
                    <td>
                      <code class="id">{p.id}</code> <CopyButton text={p.id} label={`Copy product id of ${p.name}`} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </DataTable>
          )}
        </article>
      ))}
    </div>
  );
}
