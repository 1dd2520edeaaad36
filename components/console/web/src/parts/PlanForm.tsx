// Creates a pricing plan, or changes one: its name, type, products (name,
// unit, pricing model with its price, tiers or package size, free
// allowance) and limits (a rate limit and a quota). Values go to the API as
// typed: it checks them and names each invalid field, shown at that field;
// a change it refuses (a plan with subscriptions keeps its type, products
// and limits) shows its problem.
import { useId, useState } from 'preact/hooks';
import {
  api,
  type PlanLimits,
  type PlanLimitsInput,
  type PricingModel,
  type PricingPlan,
  type Product,
  type ProductInput,
  type QuotaPeriod,
  type RateWindow,
} from '../api';
import { fieldError, ProblemMessage, SelectField, TextField, useAction, useFocusOnMount } from '../ui';
import { MODEL_HELP, MODEL_LABEL } from './pricing';

interface TierRow {
  upTo: string;
  unitPrice: string;
}

interface ProductRow {
  /** The id of the plan's product this row shows; none for a new product. */
  id?: string;
  name: string;
  unit: string;
  model: PricingModel;
  unitPrice: string;
  packageSize: string;
  freeAllowance: string;
  tiers: TierRow[];
}

const NEW_PRODUCT: ProductRow = {
  name: '',
  unit: '',
  model: 'PER_UNIT',
  unitPrice: '',
  packageSize: '',
  freeAllowance: '',
  tiers: [
    { upTo: '', unitPrice: '' },
    { upTo: '', unitPrice: '' },
  ],
};

const MODELS: PricingModel[] = ['PER_UNIT', 'GRADUATED', 'VOLUME', 'PACKAGE'];

/** A plan's product as the form shows it: its values as the API gives them. */
function productRow(p: Product): ProductRow {
  const tiers = p.tiers ?? [];
  return {
    id: p.id,
    name: p.name,
    unit: p.unit,
    model: p.pricingModel,
    unitPrice: p.unitPrice,
    packageSize: p.packageSize ?? '',
    freeAllowance: p.freeAllowance,
    // A product without tiers gets the new product's, for a change of its model.
    tiers: tiers.length > 0 ? tiers.map((t) => ({ upTo: t.upTo ?? '', unitPrice: t.unitPrice })) : NEW_PRODUCT.tiers,
  };
}

/** The product as the API takes it: the fields of its model only, decimals as typed. */
function productInput(p: ProductRow): ProductInput {
  const input: ProductInput = { name: p.name.trim(), unit: p.unit.trim(), pricingModel: p.model };
  if (p.id) input.id = p.id;
  if (p.model === 'GRADUATED' || p.model === 'VOLUME') {
    input.tiers = p.tiers.map((t, n) => ({ upTo: n === p.tiers.length - 1 ? null : t.upTo.trim(), unitPrice: t.unitPrice.trim() }));
  } else {
    input.unitPrice = p.unitPrice.trim();
  }
  if (p.model === 'PACKAGE') input.packageSize = p.packageSize.trim();
  if (p.freeAllowance.trim()) input.freeAllowance = p.freeAllowance.trim();
  return input;
}

/** A whole number as a JSON number; anything else as typed, for the API to name. */
function requests(text: string): number | string {
  const t = text.trim();
  return /^\d{1,15}$/.test(t) ? Number(t) : t;
}

interface LimitsRow {
  rateRequests: string;
  ratePer: RateWindow;
  quotaRequests: string;
  quotaPer: QuotaPeriod;
}

/** A plan's limits as the form shows them (empty fields for none). */
function limitsRow(limits: PlanLimits | undefined): LimitsRow {
  return {
    rateRequests: limits?.rateLimit ? String(limits.rateLimit.requests) : '',
    ratePer: limits?.rateLimit?.per ?? 'SECOND',
    quotaRequests: limits?.quota ? String(limits.quota.requests) : '',
    quotaPer: limits?.quota?.per ?? 'DAY',
  };
}

/** The limits as the API takes them; none when no field is filled. */
function limitsInput(l: LimitsRow): PlanLimitsInput | undefined {
  const limits: PlanLimitsInput = {};
  if (l.rateRequests.trim()) limits.rateLimit = { requests: requests(l.rateRequests), per: l.ratePer };
  if (l.quotaRequests.trim()) limits.quota = { requests: requests(l.quotaRequests), per: l.quotaPer };
  return limits.rateLimit || limits.quota ? limits : undefined;
}

function TiersFields({
  product,
  index,
  error,
  onTiers,
}: {
  product: ProductRow;
  index: number;
  error: unknown;
  onTiers: (tiers: TierRow[]) => void;
}) {
  const tiers = product.tiers;
  const field = `products[${index}].tiers`;
  const change = (n: number, key: keyof TierRow, value: string) => onTiers(tiers.map((t, m) => (m === n ? { ...t, [key]: value } : t)));
  const tiersError = fieldError(error, field, true);
  return (
    <fieldset class={`tiers${tiersError ? ' invalid' : ''}`} aria-describedby={`tiers-${index}-help`}>
      <legend>Tiers of product {index + 1}</legend>
      <p class="hint" id={`tiers-${index}-help`}>
        {MODEL_HELP[product.model]} Bounds are inclusive and count the units of a month beyond the free allowance; the
        last tier has no upper bound.
      </p>
      {tiersError && <p class="field-error">{tiersError}</p>}
      {tiers.map((t, n) => {
        const last = n === tiers.length - 1;
        return (
          <fieldset key={n} class="tier">
            <legend>Tier {n + 1}</legend>
            <div class="row">
              {last ? (
                <p class="open-tier">{n === 0 ? 'Every unit' : 'Every unit above the previous tier'} (no upper bound)</p>
              ) : (
                <TextField
                  label="Up to (units)"
                  value={t.upTo}
                  onValue={(v) => change(n, 'upTo', v)}
                  inputMode="decimal"
                  error={fieldError(error, `${field}[${n}].upTo`)}
                />
              )}
              <TextField
                label="Unit price (EUR)"
                value={t.unitPrice}
                onValue={(v) => change(n, 'unitPrice', v)}
                inputMode="decimal"
                error={fieldError(error, `${field}[${n}].unitPrice`)}
              />
            </div>
            {tiers.length > 1 && (
              <button type="button" class="secondary small" onClick={() => onTiers(tiers.filter((_, m) => m !== n))}>
                Remove tier {n + 1}
              </button>
            )}
          </fieldset>
        );
      })}
      <button type="button" class="secondary small" onClick={() => onTiers([...tiers.slice(0, -1), { upTo: '', unitPrice: '' }, tiers[tiers.length - 1]])}>
        Add tier
      </button>
    </fieldset>
  );
}

/**
 * The form of a new plan, or of a change of `plan` (its values fill the
 * fields, and saving sends them all: the API keeps what did not change,
 * products by their ids). Its heading takes the focus as it opens.
 */
export function PlanForm({
  serviceId,
  plan,
  heading,
  submitLabel,
  onSaved,
  onCancel,
}: {
  serviceId: string;
  plan?: PricingPlan;
  heading: string;
  submitLabel: string;
  onSaved: (plan: PricingPlan) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(plan?.name ?? '');
  const [type, setType] = useState<'COMMERCIAL' | 'FREE'>(plan?.type ?? 'COMMERCIAL');
  const [products, setProducts] = useState<ProductRow[]>(plan ? plan.products.map(productRow) : [NEW_PRODUCT]);
  const [limits, setLimits] = useState<LimitsRow>(limitsRow(plan?.limits));
  const saving = useAction();
  const error = saving.error;
  const headingId = useId();
  const headingElement = useFocusOnMount<HTMLHeadingElement>();

  const change = (i: number, patch: Partial<ProductRow>) => setProducts(products.map((p, j) => (i === j ? { ...p, ...patch } : p)));

  const submit = (event: Event) => {
    event.preventDefault();
    const values = { name: name.trim(), type, products: products.map(productInput), limits: limitsInput(limits) };
    saving.run(async () =>
      onSaved(
        plan
          ? await api.updatePricingPlan(serviceId, plan.id, { ...values, limits: values.limits ?? null })
          : await api.createPricingPlan(serviceId, values),
      ),
    );
  };

  return (
    <form class="card" onSubmit={submit} aria-labelledby={headingId} noValidate>
      <h3 id={headingId} ref={headingElement} tabIndex={-1}>
        {heading}
      </h3>
      {plan && (
        <p class="hint">
          Once the plan has subscriptions, only its name can change: its type, products and limits stay as they are
          (create a new plan instead).
        </p>
      )}
      <div class="row">
        <TextField label="Plan name" value={name} onValue={setName} required error={fieldError(error, 'name')} />
        <SelectField
          label="Plan type"
          value={type}
          onValue={(v) => setType(v as 'COMMERCIAL' | 'FREE')}
          options={[
            { value: 'COMMERCIAL', label: 'Commercial (pay per use)' },
            { value: 'FREE', label: 'Free' },
          ]}
          error={fieldError(error, 'type')}
        />
      </div>
      {products.map((p, i) => {
        const at = (f: string) => fieldError(error, `products[${i}].${f}`);
        const tiered = p.model === 'GRADUATED' || p.model === 'VOLUME';
        return (
          <fieldset key={i} class="product">
            <legend>Product {i + 1}</legend>
            <div class="row">
              <TextField label="Product name" value={p.name} onValue={(v) => change(i, { name: v })} placeholder="API" error={at('name')} />
              <TextField label="Unit" value={p.unit} onValue={(v) => change(i, { unit: v })} placeholder="call" error={at('unit')} />
              <SelectField
                label="Pricing model"
                value={p.model}
                onValue={(v) => change(i, { model: v as PricingModel })}
                options={MODELS.map((m) => ({ value: m, label: MODEL_LABEL[m] }))}
                hint={tiered ? undefined : MODEL_HELP[p.model]}
                error={at('pricingModel')}
              />
            </div>
            <div class="row">
              {!tiered && (
                <TextField
                  label={p.model === 'PACKAGE' ? 'Package price (EUR)' : 'Unit price (EUR)'}
                  value={p.unitPrice}
                  onValue={(v) => change(i, { unitPrice: v })}
                  inputMode="decimal"
                  placeholder={p.model === 'PACKAGE' ? '5' : '0.00001'}
                  error={at('unitPrice')}
                />
              )}
              {p.model === 'PACKAGE' && (
                <TextField
                  label="Package size (units)"
                  value={p.packageSize}
                  onValue={(v) => change(i, { packageSize: v })}
                  inputMode="decimal"
                  placeholder="1000"
                  error={at('packageSize')}
                />
              )}
              <TextField
                label="Free allowance (units per month)"
                value={p.freeAllowance}
                onValue={(v) => change(i, { freeAllowance: v })}
                inputMode="decimal"
                placeholder="0"
                hint="Each subscription's first units of a calendar month cost nothing."
                error={at('freeAllowance')}
              />
            </div>
            {tiered && <TiersFields product={p} index={i} error={error} onTiers={(tiers) => change(i, { tiers })} />}
            {/* A tiered product's unit price is its first tier's: a problem naming it belongs to the tiers. */}
            {tiered && at('unitPrice') && <p class="field-error">{at('unitPrice')}</p>}
            {products.length > 1 && (
              <button type="button" class="secondary small" onClick={() => setProducts(products.filter((_, j) => j !== i))}>
                Remove product {i + 1}
              </button>
            )}
          </fieldset>
        );
      })}
      <button type="button" class="secondary" onClick={() => setProducts([...products, NEW_PRODUCT])}>
        Add product
      </button>
      <fieldset class="limits">
        <legend>Limits (optional)</legend>
        <p class="hint">
          Each subscription's gateway calls are counted; calls over a limit are answered 429 Too Many Requests. Leave a
          limit empty for none. Like the products, limits cannot change once the plan has subscriptions.
        </p>
        <div class="row">
          <TextField
            label="Rate limit (requests)"
            value={limits.rateRequests}
            onValue={(rateRequests) => setLimits({ ...limits, rateRequests })}
            inputMode="numeric"
            placeholder="10"
            error={fieldError(error, 'limits.rateLimit.requests')}
          />
          <SelectField
            label="Rate limit per"
            value={limits.ratePer}
            onValue={(v) => setLimits({ ...limits, ratePer: v as RateWindow })}
            options={[
              { value: 'SECOND', label: 'Second' },
              { value: 'MINUTE', label: 'Minute' },
              { value: 'HOUR', label: 'Hour' },
            ]}
            error={fieldError(error, 'limits.rateLimit.per')}
          />
        </div>
        <div class="row">
          <TextField
            label="Quota (requests)"
            value={limits.quotaRequests}
            onValue={(quotaRequests) => setLimits({ ...limits, quotaRequests })}
            inputMode="numeric"
            placeholder="10000"
            error={fieldError(error, 'limits.quota.requests')}
          />
          <SelectField
            label="Quota per"
            value={limits.quotaPer}
            onValue={(v) => setLimits({ ...limits, quotaPer: v as QuotaPeriod })}
            options={[
              { value: 'DAY', label: 'Day (UTC)' },
              { value: 'MONTH', label: 'Calendar month (UTC)' },
            ]}
            error={fieldError(error, 'limits.quota.per')}
          />
        </div>
        {fieldError(error, 'limits', true) && <p class="field-error">{fieldError(error, 'limits', true)}</p>}
      </fieldset>
      <ProblemMessage error={error} />
      <div class="actions">
        <button type="submit" disabled={saving.busy}>
          {saving.busy ? 'Saving…' : submitLabel}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
