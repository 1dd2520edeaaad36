// Try it out: calls a subscribed service through the gateway with the
// application's OAuth2 token (client credentials with its consumer key and
// secret). Any request can be composed; a managed service's executions can
// be started and followed: status, live log, result and result files.
import { useRef, useState } from 'preact/hooks';
import {
  ApiError,
  api,
  executions,
  gatewayCall,
  isFinished,
  oauthToken,
  type Execution,
  type ExecutionResult,
  type GatewayReply,
  type LogEntry,
} from '../api';
import { Link } from '../router';
import { session } from '../session';
import { subscribableServices } from '../parts/catalog';
import { LogLines } from '../parts/LogLines';
import { CopyButton, DataTable, PageHeading, Pending, ProblemMessage, saveFile, SelectField, TextField, useAction, useInterval, useLoad, usePageTitle } from '../ui';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const POLL_MS = 1000;

/** Reads "Name: value" lines; a line without a colon is an error naming it. */
export function parseHeaders(text: string): [string, string][] {
  const headers: [string, string][] = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`“${line}” is not a header: write Name: value`);
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return headers;
}

/** `text` pretty-printed when it is JSON. */
function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** The application's gateway token, fetched once and reused until shortly before it expires. */
function useGatewayToken(consumerKey: string | undefined, secret: string | null) {
  const cached = useRef<{ token: string; until: number } | null>(null);
  return async (): Promise<string> => {
    if (!consumerKey || !secret) throw new ApiError({ status: 400, detail: 'Enter the consumer secret first.' });
    if (cached.current && cached.current.until > Date.now()) return cached.current.token;
    const { token, expiresIn } = await oauthToken(consumerKey, secret);
    cached.current = { token, until: Date.now() + Math.max(0, expiresIn - 60) * 1000 };
    return token;
  };
}

function SecretForm({ applicationId, onKnown }: { applicationId: string; onKnown: (secret: string) => void }) {
  const [secret, setSecret] = useState('');
  return (
    <form
      class="card"
      aria-labelledby="secret-heading"
      onSubmit={(e) => {
        e.preventDefault();
        if (!secret.trim()) return;
        session.rememberConsumerSecret(applicationId, secret.trim());
        onKnown(secret.trim());
      }}
    >
      <h2 id="secret-heading">Consumer secret needed</h2>
      <p>
        The gateway needs an OAuth2 token of this application, and the token needs its consumer secret, which is shown
        only once when the application is created. Enter it here: the console keeps it in this browser tab's session
        storage only (never local storage) until you sign out or close the tab.
      </p>
      <TextField label="Consumer secret" type="password" value={secret} onValue={setSecret} required autoComplete="off" />
      <button type="submit">Use this secret</button>
    </form>
  );
}

function RequestComposer({ serviceId, token, billingHref }: { serviceId: string; token: () => Promise<string>; billingHref: string }) {
  const [method, setMethod] = useState('POST');
  const [path, setPath] = useState('/');
  const [headers, setHeaders] = useState('');
  const [body, setBody] = useState('{}');
  const [reply, setReply] = useState<GatewayReply | null>(null);
  const sending = useAction();
  const [fieldErrors, setFieldErrors] = useState<{ headers?: string; body?: string }>({});

  const send = (event: Event) => {
    event.preventDefault();
    const problems: { headers?: string; body?: string } = {};
    let parsedHeaders: [string, string][] = [];
    try {
      parsedHeaders = parseHeaders(headers);
    } catch (e) {
      problems.headers = (e as Error).message;
    }
    const sendsBody = !['GET', 'DELETE'].includes(method) && body.trim() !== '';
    if (sendsBody) {
      try {
        JSON.parse(body);
      } catch (e) {
        problems.body = `The body is not JSON: ${(e as Error).message}`;
      }
    }
    setFieldErrors(problems);
    if (problems.headers || problems.body) return;
    sending.run(async () =>
      setReply(await gatewayCall(await token(), serviceId, { method, path, headers: parsedHeaders, body: sendsBody ? body : undefined })),
    );
  };

  return (
    <section aria-labelledby="request-heading">
      <h2 id="request-heading">Request</h2>
      <form onSubmit={send} noValidate>
        <div class="row">
          <SelectField label="Method" value={method} onValue={setMethod} options={METHODS.map((m) => ({ value: m, label: m }))} />
          <TextField label="Path" value={path} onValue={setPath} hint={`Sent to /gateway/${serviceId}${path.startsWith('/') ? '' : '/'}${path}`} />
        </div>
        <TextField
          label="Headers"
          multiline
          rows={3}
          value={headers}
          onValue={setHeaders}
          placeholder="X-Shots: 100"
          hint="One per line, as Name: value. The console adds the application's Authorization header."
          error={fieldErrors.headers}
        />
        <TextField label="Body (JSON)" multiline rows={6} value={body} onValue={setBody} class="mono" error={fieldErrors.body} />
        <ProblemMessage error={sending.error} />
        <button type="submit" disabled={sending.busy}>
          {sending.busy ? 'Sending…' : 'Send request'}
        </button>
      </form>
      {reply && (
        <section aria-labelledby="response-heading" class="response">
          <h2 id="response-heading">Response</h2>
          <dl class="facts">
            <div>
              <dt id="response-status">Status</dt>
              <dd>
                <output aria-labelledby="response-status" class={reply.status < 400 ? 'ok' : 'bad'}>
                  {reply.status} {reply.statusText}
                </output>
              </dd>
            </div>
            <div>
              <dt id="response-correlation">Correlation id</dt>
              <dd>
                <output aria-labelledby="response-correlation" class="id">
                  {reply.correlationId ?? 'none'}
                </output>{' '}
                {reply.correlationId && <CopyButton text={reply.correlationId} label="Copy correlation id" />}
              </dd>
            </div>
          </dl>
          {reply.status === 402 && (
            <div class="notice warning" role="note">
              <p>
                This month’s bill of the subscription reached its spend cap: the gateway refuses its calls until the next
                month or a higher cap. Change the cap on the subscription’s <Link href={billingHref}>billing page</Link>.
              </p>
            </div>
          )}
          {reply.status === 429 && (
            <div class="notice warning" role="note">
              <p>
                The call is over a limit of the pricing plan (its rate limit or quota). The Retry-After header says how
                many seconds to wait.
              </p>
            </div>
          )}
          <details>
            <summary>Response headers ({reply.headers.length})</summary>
            <DataTable caption="Response headers" columns={['Name', 'Value']}>
              <tbody>
                {reply.headers.map(([n, v], i) => (
                  <tr key={i}>
                    <td>
                      <code>{n}</code>
                    </td>
                    <td>
                      <code>{v}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </DataTable>
          </details>
          <h3>Response body</h3>
          <pre class="code" aria-label="Response body" tabIndex={0}>
            {reply.body ? pretty(reply.body) : '(empty)'}
          </pre>
        </section>
      )}
    </section>
  );
}

function ExecutionPanel({ serviceId, token }: { serviceId: string; token: () => Promise<string> }) {
  const [input, setInput] = useState('{\n  "data": {},\n  "params": {}\n}');
  const [inputError, setInputError] = useState<string | undefined>();
  const acting = useAction();
  const [execution, setExecution] = useState<Execution | null>(null);
  const [log, setLog] = useState<LogEntry[]>([]);
  const [result, setResult] = useState<ExecutionResult | null>(null);
  const running = execution !== null && !isFinished(execution.status);

  const follow = async () => {
    if (!execution) return;
    try {
      const t = await token();
      const [now, lines] = await Promise.all([
        executions.get(t, serviceId, execution.id),
        executions.log(t, serviceId, execution.id),
      ]);
      setLog(lines);
      if (isFinished(now.status)) setResult(await executions.result(t, serviceId, now.id));
      setExecution(now);
    } catch (e) {
      acting.setError(e);
    }
  };
  useInterval(follow, POLL_MS, running);

  const start = (event: Event) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
      setInputError(undefined);
    } catch (e) {
      setInputError(`The input is not JSON: ${(e as Error).message}`);
      return;
    }
    setResult(null);
    setLog([]);
    setExecution(null);
    acting.run(async () => setExecution(await executions.start(await token(), serviceId, parsed)));
  };

  const download = (name: string, href: string) => acting.run(async () => saveFile(await executions.file(await token(), href), name));

  const files = Object.entries(result?._links ?? {}).filter(([name]) => name !== 'self' && name !== 'status');
  const resultBody = result ? Object.fromEntries(Object.entries(result).filter(([k]) => k !== '_links' && k !== '_embedded')) : null;

  return (
    <section aria-labelledby="execution-heading">
      <h2 id="execution-heading">Execution</h2>
      <form onSubmit={start} noValidate>
        <TextField
          label="Input (JSON)"
          multiline
          rows={6}
          value={input}
          onValue={setInput}
          class="mono"
          hint="The program gets the top-level keys (data, params) as its arguments."
          error={inputError}
        />
        <button type="submit" disabled={acting.busy || running}>
          {acting.busy ? 'Working…' : 'Start execution'}
        </button>
      </form>
      <ProblemMessage error={acting.error} />
      {execution && (
        <div class="execution">
          <p role="status" aria-live="polite">
            Execution <code class="id">{execution.id}</code>: <strong class={`exec-${execution.status.toLowerCase()}`}>{execution.status}</strong>
            {running && <span class="spinner" aria-hidden="true" />}
          </p>
          {running && (
            <button
              type="button"
              class="secondary"
              onClick={() => acting.run(async () => setExecution(await executions.cancel(await token(), serviceId, execution.id)))}
            >
              Cancel execution
            </button>
          )}
          <h3>Log</h3>
          <LogLines lines={log} label="Execution log" empty={running ? 'Waiting for log lines…' : 'The program wrote no log lines.'} />
          {resultBody && (
            <>
              <h3>Result</h3>
              <pre class="code" aria-label="Execution result" tabIndex={0}>
                {JSON.stringify(resultBody, null, 2)}
              </pre>
              <h3>Result files</h3>
              {files.length === 0 ? (
                <p class="hint">The program wrote no result files.</p>
              ) : (
                <ul>
                  {files.map(([name, link]) => (
                    <li key={name}>
                      <button type="button" class="link" onClick={() => download(name, link.href)}>
                        Download {name}
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </>
          )}
        </div>
      )}
    </section>
  );
}

export function TryItOutPage({ applicationId, subscriptionId }: { applicationId: string; subscriptionId: string }) {
  usePageTitle('Try it out');
  const app = useLoad(() => api.application(applicationId), [applicationId]);
  const subscription = useLoad(() => api.subscription(subscriptionId), [subscriptionId]);
  const services = useLoad(() => subscribableServices(), []);
  const [secret, setSecret] = useState(() => session.consumerSecret(applicationId));
  const token = useGatewayToken(app.data?.consumerKey, secret);

  if (!app.data) return <Pending loaded={app} what="Loading the application" />;
  if (!subscription.data) return <Pending loaded={subscription} what="Loading the subscription" />;
  const sub = subscription.data;
  const service = services.data?.find((s) => s.id === sub.serviceId);

  return (
    <section>
      <p class="breadcrumb">
        <Link href="/applications">Applications</Link> / <Link href={`/applications/${applicationId}`}>{app.data.name}</Link> / Try it out
      </p>
      <PageHeading>Try it out: {service?.name ?? sub.serviceId}</PageHeading>
      <p>
        Calls go through the gateway as <strong>{app.data.name}</strong>
        {sub.testMode ? ', in test mode (the service is published internally)' : ''}. Each call is forwarded with a fresh{' '}
        <code>x-correlation-id</code>, which the service uses to meter it.
      </p>
      {!secret ? (
        <SecretForm applicationId={applicationId} onKnown={setSecret} />
      ) : (
        <>
          {service?.type === 'MANAGED' && <ExecutionPanel serviceId={sub.serviceId} token={token} />}
          <RequestComposer serviceId={sub.serviceId} token={token} billingHref={`/applications/${applicationId}/subscriptions/${subscriptionId}`} />
        </>
      )}
    </section>
  );
}
