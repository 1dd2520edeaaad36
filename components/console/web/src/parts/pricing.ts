// Pricing in words a consumer understands: a product's price, its tiers,
// its free allowance, a plan's limits, a bill's tier breakdown. Amounts and
// quantities are the API's exact decimal strings, shown as given: nothing
// here does arithmetic on them.
import type { BreakdownEntry, PlanLimits, PricingModel, Product, QuotaPeriod, RateWindow, Tier } from '../api';

/** A pricing model's name. */
export const MODEL_LABEL: Record<PricingModel, string> = {
  PER_UNIT: 'Per unit',
  GRADUATED: 'Graduated tiers',
  VOLUME: 'Volume tiers',
  PACKAGE: 'Per package',
};

/** What a pricing model does, in a sentence. */
export const MODEL_HELP: Record<PricingModel, string> = {
  PER_UNIT: 'Every unit costs the unit price.',
  GRADUATED: 'Each tier prices the units of the month that fall into it.',
  VOLUME: 'The tier the month’s total reaches prices every unit of the month.',
  PACKAGE: 'The price is per package of units; a started package is charged whole.',
};

const RATE_WORD: Record<RateWindow, string> = { SECOND: 'second', MINUTE: 'minute', HOUR: 'hour' };
const QUOTA_WORD: Record<QuotaPeriod, string> = { DAY: 'day (UTC)', MONTH: 'calendar month (UTC)' };

/** Whether a decimal string is zero ("0", "0.000"), read as text. */
export function isZero(decimal: string | null | undefined): boolean {
  return decimal != null && /^[+-]?0*(\.0*)?$/.test(decimal.trim()) && /\d/.test(decimal);
}

/** The units tier `index` of `tiers` covers, beyond the free allowance. */
export function tierRange(tiers: Tier[], index: number, unit: string): string {
  const upTo = tiers[index].upTo;
  const after = index === 0 ? null : tiers[index - 1].upTo;
  if (after === null) return upTo === null ? `Every ${unit}` : `First ${upTo} ${unit}`;
  return upTo === null ? `Above ${after} ${unit}` : `Above ${after}, up to ${upTo} ${unit}`;
}

/** A product's price in one line: "0.00001 EUR per call", "from 0.01 EUR per call in 2 graduated tiers". */
export function priceInWords(product: Product, currency: string): string {
  const { unit } = product;
  switch (product.pricingModel) {
    case 'GRADUATED':
    case 'VOLUME': {
      const tiers = product.tiers ?? [];
      const kind = product.pricingModel === 'GRADUATED' ? 'graduated' : 'volume';
      if (tiers.length === 1) return `${tiers[0].unitPrice} ${currency} per ${unit}`;
      return `${tiers.map((t) => t.unitPrice).join(' / ')} ${currency} per ${unit} in ${tiers.length} ${kind} tiers`;
    }
    case 'PACKAGE':
      return `${product.unitPrice} ${currency} per package of ${product.packageSize ?? '?'} ${unit}`;
    default:
      return `${product.unitPrice} ${currency} per ${unit}`;
  }
}

/** A product's monthly free allowance in words, or null when it has none. */
export function allowanceInWords(product: Product): string | null {
  return isZero(product.freeAllowance) ? null : `Free allowance: ${product.freeAllowance} ${product.unit} per calendar month and subscription.`;
}

/** A product's pricing in a short summary (for a choice of plans). */
export function productSummary(product: Product, currency: string): string {
  const free = isZero(product.freeAllowance) ? '' : `, ${product.freeAllowance} ${product.unit} a month free`;
  return `${product.name}: ${priceInWords(product, currency)}${free}`;
}

/** A plan's limits in words, one sentence each (none when it has none). */
export function limitsInWords(limits: PlanLimits | null | undefined): string[] {
  const words: string[] = [];
  if (limits?.rateLimit) words.push(`At most ${limits.rateLimit.requests} requests per ${RATE_WORD[limits.rateLimit.per]}.`);
  if (limits?.quota) words.push(`At most ${limits.quota.requests} requests per ${QUOTA_WORD[limits.quota.per]}.`);
  return words;
}

/** What a bill's breakdown entry covers: "Tier 1: first 2 call", "Above 2 call", "Packages". */
export function breakdownLabel(model: PricingModel, entry: BreakdownEntry, index: number, unit: string): string {
  if (model === 'PACKAGE') return 'Packages';
  const range =
    entry.upTo === null
      ? isZero(entry.from)
        ? model === 'PER_UNIT'
          ? 'Beyond the free allowance'
          : `Every ${unit}`
        : `Above ${entry.from} ${unit}`
      : isZero(entry.from)
        ? `First ${entry.upTo} ${unit}`
        : `Above ${entry.from}, up to ${entry.upTo} ${unit}`;
  return model === 'GRADUATED' || model === 'VOLUME' ? `Tier ${index + 1}: ${range}` : range;
}
