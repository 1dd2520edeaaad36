// Creates a pricing plan: its name, type and products (name, unit price, unit).
import { useState } from 'preact/hooks';
import { api, type PricingPlan } from '../api';
import { fieldError, ProblemMessage, SelectField, TextField, useAction } from '../ui';

interface ProductRow {
  name: string;
  unitPrice: string;
  unit: string;
}

export function PlanForm({ serviceId, onCreated, onCancel }: { serviceId: string; onCreated: (plan: PricingPlan) => void; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [type, setType] = useState<'COMMERCIAL' | 'FREE'>('COMMERCIAL');
  const [products, setProducts] = useState<ProductRow[]>([{ name: '', unitPrice: '', unit: '' }]);
  const creating = useAction();
  const error = creating.error;

  const change = (i: number, field: keyof ProductRow, value: string) =>
    setProducts(products.map((p, j) => (i === j ? { ...p, [field]: value } : p)));

  const submit = (event: Event) => {
    event.preventDefault();
    creating.run(async () =>
      onCreated(
        await api.createPricingPlan(serviceId, {
          name: name.trim(),
          type,
          products: products.map((p) => ({ name: p.name.trim(), unitPrice: p.unitPrice.trim(), unit: p.unit.trim() })),
        }),
      ),
    );
  };

  return (
    <form class="card" onSubmit={submit} aria-labelledby="new-plan-heading" noValidate>
      <h3 id="new-plan-heading">New pricing plan</h3>
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
      {products.map((p, i) => (
        <fieldset key={i} class="product">
          <legend>Product {i + 1}</legend>
          <div class="row">
            <TextField label="Product name" value={p.name} onValue={(v) => change(i, 'name', v)} placeholder="API" error={fieldError(error, `products[${i}].name`)} />
            <TextField
              label="Unit price (EUR)"
              value={p.unitPrice}
              onValue={(v) => change(i, 'unitPrice', v)}
              inputMode="decimal"
              placeholder="0.00001"
              error={fieldError(error, `products[${i}].unitPrice`)}
            />
            <TextField label="Unit" value={p.unit} onValue={(v) => change(i, 'unit', v)} placeholder="call" error={fieldError(error, `products[${i}].unit`)} />
          </div>
          {products.length > 1 && (
            <button type="button" class="secondary small" onClick={() => setProducts(products.filter((_, j) => j !== i))}>
              Remove product {i + 1}
            </button>
          )}
        </fieldset>
      ))}
      <button type="button" class="secondary" onClick={() => setProducts([...products, { name: '', unitPrice: '', unit: '' }])}>
        Add product
      </button>
      <ProblemMessage error={error} />
      <div class="actions">
        <button type="submit" disabled={creating.busy}>
          {creating.busy ? 'Creating…' : 'Create plan'}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
