// Building blocks every page uses: loading and empty states, problems,
// labelled fields, copy buttons, confirmations.
import type { ComponentChildren, ComponentType } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

/** The state of a call a page waits for. */
export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change; `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error) => current && setState({ error, loading: false }),
    );
    return () => {
      current = false;
    };
    // `load` is a new closure each render: `deps` say when it loads something else.
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** Runs `tick` every `ms` while `active`. */
export function useInterval(tick: () => void, ms: number, active: boolean): void {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => saved.current(), ms);
    return () => window.clearInterval(timer);
  }, [ms, active]);
}

/** A user's action on the platform: whether it runs, and how it failed. */
export interface Action {
  busy: boolean;
  error: unknown;
  setError: (error: unknown) => void;
  /** Runs `action`, keeping its failure in `error`. */
  run: (action: () => Promise<void>) => Promise<void>;
}

/** State for one action a page offers (a form's submit, a button). */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

/** The text of a failure: a problem's detail, else its message. */
export function detailOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The message a failure has for `field` (or, unless `exact`, a field within it), when its problem names it. */
export function fieldError(error: unknown, field: string, exact = false): string | undefined {
  return error instanceof ApiError ? error.fieldMessage(field, exact) : undefined;
}

/** A failure, as an alert with the problem's detail. */
export function ProblemMessage({ error }: { error: unknown }) {
  if (!error) return null;
  // A field error the detail already says in full is not listed again.
  const errors = (error instanceof ApiError ? (error.problem.errors ?? []) : []).filter(
    (e) => `${e.field}: ${e.message}` !== detailOf(error) && e.message !== detailOf(error),
  );
  return (
    <div class="problem" role="alert">
      <p>{detailOf(error)}</p>
      {errors.length > 0 && (
        <ul>
          {errors.map((e, i) => (
            <li key={i}>{e.field ? `${e.field}: ${e.message}` : e.message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A loading state. */
export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" /> {what}…
    </p>
  );
}

/** An empty state that says what to do next. */
export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

/** What a page shows while `loaded` has no data: a loading state or its problem. */
export function Pending({ loaded, what }: { loaded: Loaded<unknown>; what?: string }) {
  if (loaded.error) return <ProblemMessage error={loaded.error} />;
  return <Loading what={what} />;
}

/** The input attributes the console's fields use. */
interface InputProps {
  type?: string;
  required?: boolean;
  autoComplete?: string;
  placeholder?: string;
  min?: string;
  inputMode?: 'decimal' | 'numeric' | 'text';
  class?: string;
}

/** What every field has besides its control: a label, a hint, an error. */
interface FieldProps {
  label: string;
  error?: string;
  hint?: ComponentChildren;
}

/** The attributes that tie a control to its hint and error. */
interface ControlProps {
  id: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
}

/** A labelled control with its hint and its error (from the problem's `errors[].field`). */
function Field({ label, error, hint, control }: FieldProps & { control: (props: ControlProps) => ComponentChildren }) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>{label}</label>
      {control({ id, 'aria-invalid': error ? true : undefined, 'aria-describedby': described })}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** A labelled text input (or textarea). */
export function TextField(
  props: InputProps &
    FieldProps & {
      value: string;
      onValue: (value: string) => void;
      multiline?: boolean;
      rows?: number;
    },
) {
  const { label, value, onValue, error, hint, multiline, rows, ...rest } = props;
  return (
    <Field
      label={label}
      error={error}
      hint={hint}
      control={(control) =>
        multiline ? (
          <textarea
            {...control}
            value={value}
            rows={rows ?? 4}
            required={rest.required}
            placeholder={rest.placeholder}
            class={rest.class}
            onInput={(e) => onValue((e.target as HTMLTextAreaElement).value)}
          />
        ) : (
          // Preact types each input `type` apart; the attributes here suit every one.
          <input {...control} value={value} onInput={(e) => onValue((e.target as HTMLInputElement).value)} {...(rest as Record<string, unknown>)} />
        )
      }
    />
  );
}

/** A labelled select. */
export function SelectField(
  props: FieldProps & { value: string; onValue: (value: string) => void; options: { value: string; label: string }[] },
) {
  return (
    <Field
      {...props}
      control={(control) => (
        <select {...control} value={props.value} onChange={(e) => props.onValue((e.target as HTMLSelectElement).value)}>
          {props.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    />
  );
}

/** A labelled file input; `onFile` gets the chosen file (or null). */
export function FileField(props: FieldProps & { accept: string; onFile: (file: File | null) => void }) {
  return (
    <Field
      {...props}
      control={(control) => (
        <input
          {...control}
          type="file"
          accept={props.accept}
          onChange={(e) => props.onFile((e.target as HTMLInputElement).files?.[0] ?? null)}
        />
      )}
    />
  );
}

/** Copies `text` to the clipboard (with a fallback where the Clipboard API is refused). */
async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

/** A button that copies `text`, named by `label` (e.g. "Copy product id of API"). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = window.setTimeout(() => setCopied(false), 2000);
    return () => window.clearTimeout(timer);
  }, [copied]);
  return (
    <span class="copy">
      <button
        type="button"
        class="secondary small"
        aria-label={label}
        title={label}
        onClick={async () => {
          await copyText(text);
          setCopied(true);
        }}
      >
        <svg class="icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
          <rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.6" />
          <path d="M3 11V3a1 1 0 0 1 1-1h7" fill="none" stroke="currentColor" stroke-width="1.6" />
        </svg>{' '}
        Copy
      </button>
      <span class="copied" role="status">
        {copied ? 'Copied' : ''}
      </span>
    </span>
  );
}

/** A secret shown once: its value, selectable, with a copy button. */
export function SecretValue({ label, value }: { label: string; value: string }) {
  const id = useId();
  return (
    <div class="secret">
      <label for={id}>{label}</label>
      <div class="secret-row">
        <input id={id} readOnly value={value} class="mono" onFocus={(e) => (e.target as HTMLInputElement).select()} />
        <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />
      </div>
    </div>
  );
}

/** A button that asks before it acts, in a modal dialog. */
export function ConfirmButton(props: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => Promise<void> | void;
  danger?: boolean;
  small?: boolean;
  accessibleLabel?: string;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const action = useAction();
  const titleId = useId();
  const close = () => {
    action.setError(null);
    dialog.current?.close();
  };
  return (
    <>
      <button
        type="button"
        class={`${props.danger ? 'danger' : 'secondary'}${props.small ? ' small' : ''}`}
        aria-label={props.accessibleLabel}
        onClick={() => dialog.current?.showModal()}
      >
        {props.label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId} onClose={() => action.setError(null)}>
        <h2 id={titleId}>{props.question}</h2>
        <ProblemMessage error={action.error} />
        <div class="actions">
          <button
            type="button"
            class={props.danger ? 'danger' : ''}
            disabled={action.busy}
            onClick={() =>
              action.run(async () => {
                await props.onConfirm();
                dialog.current?.close();
              })
            }
          >
            {action.busy ? 'Working…' : props.confirmLabel}
          </button>
          <button type="button" class="secondary" onClick={close}>
            Cancel
          </button>
        </div>
      </dialog>
    </>
  );
}

/** The ARIA role each table element keeps when a narrow screen shows rows as cards (CSS `display: block` drops them). */
const TABLE_ROLES: [string, string][] = [
  ['table', 'table'],
  ['thead, tbody, tfoot', 'rowgroup'],
  ['tr', 'row'],
  ['th[scope="col"]', 'columnheader'],
  ['th[scope="row"]', 'rowheader'],
  ['td', 'cell'],
];

/**
 * A table: its caption (visible or not), column headings and rows. On a
 * narrow screen each row stands as a card, every cell under its column's
 * name (`data-label`, set here from `columns`), so no column is off-screen.
 */
export function DataTable(props: { caption: ComponentChildren; showCaption?: boolean; columns: string[]; class?: string; children: ComponentChildren }) {
  const table = useRef<HTMLTableElement>(null);
  useEffect(() => {
    const t = table.current;
    if (!t) return;
    for (const [selector, role] of TABLE_ROLES) {
      if (selector === 'table') t.setAttribute('role', role);
      else t.querySelectorAll(selector).forEach((el) => el.setAttribute('role', role));
    }
    t.querySelectorAll('tbody tr').forEach((row) =>
      Array.from(row.children).forEach((cell, i) => cell.setAttribute('data-label', props.columns[i] ?? '')),
    );
  });
  return (
    <div class="table-wrap" tabIndex={0}>
      <table ref={table} class={`stack${props.class ? ` ${props.class}` : ''}`}>
        <caption class={props.showCaption ? undefined : 'visually-hidden'}>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        {props.children}
      </table>
    </div>
  );
}

/** A timestamp as the reader's local date and time. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** A `<time>` element for `iso`. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span>—</span>;
  return <time dateTime={iso}>{formatTime(iso)}</time>;
}

/** Sets the document title for a page. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · qmarket console`;
  }, [title]);
}

/**
 * A ref whose element takes the focus when it appears, if `focus`: a
 * page's or an opened form's heading, so keyboard and screen-reader users
 * start there; the button that opened a form, once the form closed.
 */
export function useFocusOnMount<T extends HTMLElement>(focus = true) {
  const element = useRef<T>(null);
  useEffect(() => {
    if (focus) element.current?.focus();
  }, []);
  return element;
}

/** A button that opens a form in the page; it takes the focus back when it shows again as the form closes (`focusOnReturn`). */
export function OpenFormButton(props: {
  label: string;
  accessibleLabel?: string;
  small?: boolean;
  focusOnReturn: boolean;
  onOpen: () => void;
}) {
  const button = useFocusOnMount<HTMLButtonElement>(props.focusOnReturn);
  return (
    <button ref={button} type="button" class={props.small ? 'secondary small' : undefined} aria-label={props.accessibleLabel} onClick={props.onOpen}>
      {props.label}
    </button>
  );
}

/** A page's heading, focused when the page opens so keyboard and screen-reader users start there. */
export function PageHeading({ children, actions }: { children: ComponentChildren; actions?: ComponentChildren }) {
  const heading = useFocusOnMount<HTMLHeadingElement>();
  return (
    <div class="page-heading">
      <h1 tabIndex={-1} ref={heading}>
        {children}
      </h1>
      {actions && <div class="actions">{actions}</div>}
    </div>
  );
}

/** A label for a lifecycle state. */
export const LIFECYCLE_LABEL: Record<string, string> = {
  CREATED: 'Created (private)',
  ACCESSIBLE: 'Published internally (test mode)',
  PUBLISHED: 'Published on the marketplace',
};

/** Saves `blob` as a file named `name` (what a download link does, for bytes fetched with a token). */
export function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/**
 * A component whose code is loaded when it is first shown (a chunk of its
 * own), so the first load of the console stays small.
 */
export function lazy<P extends object>(load: () => Promise<ComponentType<P>>, what: string): ComponentType<P> {
  let cached: ComponentType<P> | undefined;
  return function Lazy(props: P) {
    const loaded = useLoad(() => (cached ? Promise.resolve(cached) : load().then((c) => (cached = c))), []);
    const Component = cached ?? loaded.data;
    if (!Component) return <Pending loaded={loaded} what={what} />;
    return <Component {...props} />;
  };
}

/** Paging through a listing's cursors: the current page's cursor, and going newer or older. */
export interface Pages {
  cursor: string | undefined;
  number: number;
  older: (next: string | null | undefined) => void;
  newer: () => void;
  reset: () => void;
}

/** The cursors of the pages seen so far; the last is the current page's. */
export function usePages(): Pages {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  return {
    cursor: cursors[cursors.length - 1],
    number: cursors.length,
    older: (next) => next && setCursors([...cursors, next]),
    newer: () => setCursors(cursors.length > 1 ? cursors.slice(0, -1) : cursors),
    reset: () => setCursors([undefined]),
  };
}

/** The buttons that page through a listing, newest first. */
export function Pager({ pages, next, label, what }: { pages: Pages; next: string | null | undefined; label: string; what: string }) {
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" class="secondary" disabled={pages.number <= 1} onClick={pages.newer}>
        Newer {what}
      </button>
      <span>Page {pages.number}</span>
      <button type="button" class="secondary" disabled={!next} onClick={() => pages.older(next)}>
        Older {what}
      </button>
    </nav>
  );
}

/** A `YYYY-MM` month in words: "December 2026". */
export function monthName(month: string): string {
  const [year, m] = month.split('-').map(Number);
  if (!year || !m) return month;
  return new Date(Date.UTC(year, m - 1, 1)).toLocaleDateString(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

/** The buttons under a filter form: apply what it says, or load again. */
export function FilterActions({ onRefresh }: { onRefresh: () => void }) {
  return (
    <div class="actions">
      <button type="submit" class="secondary">
        Apply filters
      </button>
      <button type="button" class="secondary" onClick={onRefresh}>
        Refresh
      </button>
    </div>
  );
}

/**
 * A table's footer: "Total" across its first `span` columns, the amount as
 * given, then `trailing` empty cells.
 */
export function TotalRow(props: { span: number; amount: string; currency: string; trailing?: number }) {
  const { span, amount, currency, trailing = 0 } = props;
  return (
    <tfoot>
      <tr>
        <th scope="row" colSpan={span}>
          Total
        </th>
        <td class="num">
          <strong>
            {amount} {currency}
          </strong>
        </td>
        {Array.from({ length: trailing }, (_, i) => (
          <td key={i} />
        ))}
      </tr>
    </tfoot>
  );
}
