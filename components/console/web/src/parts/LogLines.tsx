// Log lines (of a build or an execution), oldest first.
import type { LogEntry } from '../api';
import { formatTime } from '../ui';

export function LogLines({ lines, label, empty }: { lines: LogEntry[]; label: string; empty: string }) {
  if (lines.length === 0) return <p class="hint">{empty}</p>;
  return (
    <ol class="log" aria-label={label} tabIndex={0}>
      {lines.map((l, i) => (
        <li key={i} class={`sev-${l.severity.toLowerCase()}`}>
          <time dateTime={l.timestamp}>{formatTime(l.timestamp)}</time> <span class="sev">{l.severity}</span>{' '}
          <span class="msg">{l.message}</span>
        </li>
      ))}
    </ol>
  );
}
