// A service's pricing plans: each plan's limits and its products in words
// (price, tiers, package, free allowance), as a table per plan, with a copy
// button for each product id (the id a service meters with); a plan being
// changed shows its form in place of its card.
import type { PricingPlan, Product } from '../api';
import { CopyButton, DataTable, Empty } from '../ui';
import { Fragment, type ComponentChildren } from 'preact';
import { allowanceInWords, limitsInWords, MODEL_HELP, MODEL_LABEL, priceInWords, tierRange } from './pricing';

/** A plan's limits in words, with what happens over one. */
export function PlanLimitsText({ limits }: { limits: PricingPlan['limits'] }) {
  const words = limitsInWords(limits);
  if (words.length === 0) return <p class="hint">No rate limit or quota.</p>;
  return (
    <div class="limits">
      <ul>
        {words.map((w) => (
          <li key={w}>{w}</li>
        ))}
      </ul>
      <p class="hint">Calls over a limit are answered 429 Too Many Requests, with a Retry-After header.</p>
    </div>
  );
}

/** How a product is priced: the price, its tiers or package, its free allowance. */
export function ProductPrice({ product, currency }: { product: Product; currency: string }) {
  const tiers = product.tiers ?? [];
  const allowance = allowanceInWords(product);
  return (
    <>
      {product.pricingModel === 'GRADUATED' || product.pricingModel === 'VOLUME' ? (
        <>
          <span>
            {MODEL_LABEL[product.pricingModel]}: {MODEL_HELP[product.pricingModel].toLowerCase()}
          </span>
          <ul class="tiers">
            {tiers.map((t, i) => (
              <li key={i}>
                {tierRange(tiers, i, product.unit)}: {t.unitPrice} {currency} per {product.unit}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <span>
          {priceInWords(product, currency)}
          {product.pricingModel === 'PACKAGE' && <> (a started package is charged whole)</>}
        </span>
      )}
      {allowance && (
        <span class="allowance">
          {allowance}
          {tiers.length > 0 ? ' The tiers count the units beyond it.' : ''}
        </span>
      )}
    </>
  );
}

/** A plan's card: its name and type, its `actions`, its limits and its products with their prices. */
function PlanCard({ plan, actions }: { plan: PricingPlan; actions?: ComponentChildren }) {
  return (
    <article class="card" aria-labelledby={`plan-${plan.id}`}>
      <div class="card-heading">
        <h3 id={`plan-${plan.id}`}>
          {plan.name} <span class="badge">{plan.type === 'FREE' ? 'Free' : 'Commercial'}</span>
        </h3>
        {actions}
      </div>
      <section class="plan-limits" aria-label={`Limits of ${plan.name}`}>
        <h4>Limits</h4>
        <PlanLimitsText limits={plan.limits} />
      </section>
      {plan.products.length === 0 ? (
        <p class="hint">No products: every call is free.</p>
      ) : (
        <DataTable caption={`Products of ${plan.name}`} columns={['Product', 'Price', 'Product id']}>
          <tbody>
            {plan.products.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td class="price">
                  <ProductPrice product={p} currency={plan.currency} />
                </td>
                <td>
                  <code class="id">{p.id}</code> <CopyButton text={p.id} label={`Copy product id of ${p.name}`} />
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      )}
    </article>
  );
}

/**
 * Plans as cards, each with its `actions` (the owner's buttons); `editor`
 * gives what stands in place of a plan's card while it is being changed
 * (its form), or nothing.
 */
export function PricingPlans({
  plans,
  empty,
  actions,
  editor,
}: {
  plans: PricingPlan[];
  empty: ComponentChildren;
  actions?: (plan: PricingPlan) => ComponentChildren;
  editor?: (plan: PricingPlan) => ComponentChildren;
}) {
  if (plans.length === 0) return <Empty>{empty}</Empty>;
  return (
    <div class="plans">
      {plans.map((plan) => {
        const form = editor?.(plan);
        return form ? <Fragment key={plan.id}>{form}</Fragment> : <PlanCard key={plan.id} plan={plan} actions={actions?.(plan)} />;
      })}
    </div>
  );
}
