// A service's pricing plans and their products, as a table per plan, with
// a copy button for each product id (the id a service meters with).
import type { PricingPlan } from '../api';
import { CopyButton, Empty } from '../ui';
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
            <div class="table-wrap" tabIndex={0}>
              <table>
                <caption class="visually-hidden">Products of {plan.name}</caption>
                <thead>
                  <tr>
                    <th scope="col">Product</th>
                    <th scope="col">Unit price</th>
                    <th scope="col">Unit</th>
                    <th scope="col">Product id</th>
                  </tr>
                </thead>
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
              </table>
            </div>
          )}
        </article>
      ))}
    </div>
  );
}
