// A bill's lines (a usage window's or a month's invoice), one group of rows
// per product: the product's line, then what of it was free and how each
// tier (or the packages) priced the rest, and the total. Every figure is the
// API's exact decimal, shown as given.
import type { ComponentChildren } from 'preact';
import type { UsageLine } from '../api';
import { DataTable, TotalRow } from '../ui';
import { breakdownLabel, isZero, MODEL_LABEL } from './pricing';

/** Whether a line's breakdown says more than its own row does. */
function hasDetail(line: UsageLine): boolean {
  return line.pricingModel !== 'PER_UNIT' || !isZero(line.freeQuantity);
}

export function BillTable({
  caption,
  lines,
  currency,
  total,
  empty = 'No usage in this period.',
}: {
  caption: ComponentChildren;
  lines: UsageLine[];
  currency: string;
  total: string;
  empty?: string;
}) {
  return (
    <DataTable caption={caption} showCaption class="bill" columns={['Product', 'Quantity', 'Unit price', 'Amount']}>
      {lines.length === 0 ? (
        <tbody>
          <tr>
            <td colSpan={4}>{empty}</td>
          </tr>
        </tbody>
      ) : (
        lines.map((l) => (
          <tbody key={l.productId} class="bill-line">
            <tr class="line">
              <td>
                {l.productName}
                {l.pricingModel !== 'PER_UNIT' && <span class="hint"> ({MODEL_LABEL[l.pricingModel].toLowerCase()})</span>}
              </td>
              <td class="num">
                {l.quantity} {l.unit}
              </td>
              <td class="num">
                {l.pricingModel === 'PER_UNIT' ? (
                  <>
                    {l.unitPrice} {currency}
                  </>
                ) : (
                  'see below'
                )}
              </td>
              <td class="num">
                {l.amount} {currency}
              </td>
            </tr>
            {hasDetail(l) && !isZero(l.freeQuantity) && (
              <tr class="breakdown">
                <td>Free allowance</td>
                <td class="num">
                  {l.freeQuantity} {l.unit}
                </td>
                <td class="num">free</td>
                <td class="num">
                  0 {currency}
                </td>
              </tr>
            )}
            {hasDetail(l) &&
              l.breakdown.map((b, i) => (
                <tr class="breakdown" key={i}>
                  <td>{breakdownLabel(l.pricingModel, b, i, l.unit)}</td>
                  <td class="num">
                    {b.quantity} {l.unit}
                    {b.packages !== undefined && <> ({b.packages} packages)</>}
                  </td>
                  <td class="num">
                    {b.unitPrice} {currency} per {l.pricingModel === 'PACKAGE' ? 'package' : l.unit}
                  </td>
                  <td class="num">
                    {b.amount} {currency}
                  </td>
                </tr>
              ))}
          </tbody>
        ))
      )}
      <TotalRow span={3} amount={total} currency={currency} />
    </DataTable>
  );
}
