// Usage per day and product as an SVG bar chart drawn by the app, with the
// same figures as a table for screen readers and exact reading.
import type { UsageLine } from '../api';
import { DataTable } from '../ui';

/** One day's usage lines. */
export interface DailyUsage {
  day: string;
  lines: UsageLine[];
}

const COLORS = ['#3b2f8f', '#0f7b6c', '#b4501b', '#a3175d', '#2f6fb0', '#5e6b00'];
const WIDTH = 640;
const HEIGHT = 200;
const PAD = { left: 44, right: 8, top: 12, bottom: 28 };

export function UsageChart({ daily, title }: { daily: DailyUsage[]; title: string }) {
  const products = [...new Map(daily.flatMap((d) => d.lines).map((l) => [l.productId, l])).values()];
  if (products.length === 0) {
    return <p class="hint">No usage in these days: calls through the gateway that the service meters show up here.</p>;
  }
  const value = (d: DailyUsage, productId: string) => Number(d.lines.find((l) => l.productId === productId)?.quantity ?? 0);
  const max = Math.max(...daily.flatMap((d) => products.map((p) => value(d, p.productId))), 1);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / daily.length;
  const bar = Math.max(2, (slot * 0.8) / products.length);
  const labelEvery = Math.ceil(daily.length / 8);
  const summary = products
    .map((p) => `${p.productName}: ${daily.reduce((sum, d) => sum + value(d, p.productId), 0)} ${p.unit}`)
    .join('; ');

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${title}. ${summary} over ${daily.length} days.`}>
        <line x1={PAD.left} y1={PAD.top + plotH} x2={WIDTH - PAD.right} y2={PAD.top + plotH} class="axis" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={PAD.top + plotH} class="axis" />
        <text x={PAD.left - 6} y={PAD.top + 4} text-anchor="end" class="tick">
          {max}
        </text>
        <text x={PAD.left - 6} y={PAD.top + plotH} text-anchor="end" class="tick">
          0
        </text>
        {daily.map((d, i) => (
          <g key={d.day}>
            {products.map((p, j) => {
              const h = (value(d, p.productId) / max) * plotH;
              return (
                <rect
                  key={p.productId}
                  x={PAD.left + i * slot + slot * 0.1 + j * bar}
                  y={PAD.top + plotH - h}
                  width={bar}
                  height={h}
                  fill={COLORS[j % COLORS.length]}
                />
              );
            })}
            {i % labelEvery === 0 && (
              <text x={PAD.left + i * slot + slot / 2} y={HEIGHT - 8} text-anchor="middle" class="tick">
                {d.day.slice(5)}
              </text>
            )}
          </g>
        ))}
      </svg>
      <ul class="legend" aria-label="Products">
        {products.map((p, j) => (
          <li key={p.productId}>
            <span class="swatch" style={{ background: COLORS[j % COLORS.length] }} aria-hidden="true" /> {p.productName} ({p.unit})
          </li>
        ))}
      </ul>
      <details>
        <summary>Usage per day as a table</summary>
        <DataTable caption={title} columns={['Day (UTC)', ...products.map((p) => `${p.productName} (${p.unit})`)]}>
          <tbody>
            {daily.map((d) => (
              <tr key={d.day}>
                <th scope="row">{d.day}</th>
                {products.map((p) => (
                  <td class="num" key={p.productId}>
                    {d.lines.find((l) => l.productId === p.productId)?.quantity ?? '0'}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </DataTable>
      </details>
    </figure>
  );
}
