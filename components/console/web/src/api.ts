// The console's one way to the platform: every call of the HTTP API
// (docs/API.md, openapi.yaml) the pages make, typed. Pages never call
// fetch themselves. A failure is an ApiError carrying the RFC 9457 problem.

import { session } from './session';

/** One field-level error of a problem. */
export interface FieldError {
  field?: string;
  message: string;
}

/** An RFC 9457 problem as the platform sends it. */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
}

/** A failed call: its problem, with a detail always present. */
export class ApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.problem = problem;
  }
  /** The message for `field` (or, unless `exact`, one of its sub-fields), if the problem names it. */
  fieldMessage(field: string, exact = false): string | undefined {
    const hit = (this.problem.errors ?? []).find(
      (e) =>
        e.field === field || (!exact && ((e.field ?? '').startsWith(`${field}.`) || (e.field ?? '').startsWith(`${field}[`))),
    );
    return hit?.message;
  }
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface AccessToken {
  id: string;
  name: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
}
export interface CreatedAccessToken extends AccessToken {
  value: string;
}
export interface Account {
  id: string;
  name: string;
  email: string;
  createdAt: string;
}
export interface CreatedAccount extends Account {
  accessToken: CreatedAccessToken;
}

export type ServiceType = 'EXTERNAL' | 'MANAGED';
export type Lifecycle = 'CREATED' | 'ACCESSIBLE' | 'PUBLISHED';
export type Runtime = 'PYTHON_TEMPLATE' | 'WASM' | 'DOCKER';
export interface Resources {
  milliCpus: number;
  memoryInMegabytes: number;
  timeoutSeconds: number;
}
export interface Service {
  id: string;
  name: string;
  type: ServiceType;
  description: string;
  quantumBackend: string;
  url: string | null;
  securityConfiguration: { type: 'NONE' | 'BASIC'; username: string | null };
  runtime?: Runtime;
  resources?: Resources;
  lifecycle: Lifecycle;
  ownerId: string;
  createdAt: string;
  updatedAt: string;
}
/** What creating or changing a service sends (`apiSpecification`: a JSON document or YAML text). */
export interface ServiceInput {
  name?: string;
  type?: ServiceType;
  description?: string | null;
  quantumBackend?: string;
  url?: string | null;
  securityConfiguration?: { type: 'NONE' | 'BASIC'; username?: string | null; password?: string | null };
  apiSpecification?: unknown;
  runtime?: Runtime;
  resources?: Partial<Resources>;
}
export interface QuantumBackend {
  id: string;
  name: string;
}
/** How a product prices the units a subscription used in a calendar month (beyond its free allowance). */
export type PricingModel = 'PER_UNIT' | 'GRADUATED' | 'VOLUME' | 'PACKAGE';
/** A tier of a `GRADUATED` or `VOLUME` product: units up to `upTo` (inclusive; `null`: no end). */
export interface Tier {
  upTo: string | null;
  unitPrice: string;
}
export interface Product {
  id: string;
  name: string;
  /** Per unit; per package for `PACKAGE`; the first tier's price for `GRADUATED` and `VOLUME`. */
  unitPrice: string;
  unit: string;
  pricingModel: PricingModel;
  tiers?: Tier[];
  packageSize?: string;
  freeAllowance: string;
}
export type RateWindow = 'SECOND' | 'MINUTE' | 'HOUR';
export type QuotaPeriod = 'DAY' | 'MONTH';
/** Limits on each subscription's gateway calls (over one, the gateway answers 429). */
export interface PlanLimits {
  rateLimit?: { requests: number; per: RateWindow };
  quota?: { requests: number; per: QuotaPeriod };
}
export interface PricingPlan {
  id: string;
  serviceId: string;
  name: string;
  type: 'FREE' | 'COMMERCIAL';
  currency: string;
  products: Product[];
  limits?: PlanLimits;
  createdAt: string;
}
/** A product as sent: decimals as the user typed them, for the API to check. */
export interface ProductInput {
  /** On a change: the id of the plan's product this one is (it keeps its id); none for a new product. */
  id?: string;
  name: string;
  unit: string;
  unitPrice?: string;
  pricingModel?: PricingModel;
  tiers?: { upTo: string | null; unitPrice: string }[];
  packageSize?: string;
  freeAllowance?: string;
}
/** Limits as sent: `requests` a whole number, or the text typed (which the API then names as invalid). */
export interface PlanLimitsInput {
  rateLimit?: { requests: number | string; per: RateWindow };
  quota?: { requests: number | string; per: QuotaPeriod };
}
export interface PricingPlanInput {
  name: string;
  type?: 'FREE' | 'COMMERCIAL';
  products: ProductInput[];
  limits?: PlanLimitsInput;
}
/**
 * A change of a plan: the fields sent replace the plan's (`products` the
 * whole list, `limits: null` removes them). Once the plan has
 * subscriptions only its name may change: a change of its type, products
 * or limits is refused (409).
 */
export interface PricingPlanPatch {
  name?: string;
  type?: 'FREE' | 'COMMERCIAL';
  products?: ProductInput[];
  limits?: PlanLimitsInput | null;
}
export interface MarketplaceService extends Omit<Service, 'url' | 'securityConfiguration'> {
  pricingPlans: PricingPlan[];
}
export interface Application {
  id: string;
  name: string;
  consumerKey: string;
  createdAt: string;
}
export interface CreatedApplication extends Application {
  consumerSecret: string;
}
export interface Subscription {
  id: string;
  applicationId: string;
  serviceId: string;
  pricingPlanId: string;
  testMode: boolean;
  createdAt: string;
  /** The plan's limits as they were when it subscribed. */
  limits?: PlanLimits;
  /** The service's name (one subscription's view only). */
  serviceName?: string;
  /** The plan it pays, as it was when it subscribed (one subscription's view only). */
  pricingPlan?: PricingPlan;
}
export interface MeteringEvent {
  id: string;
  timestamp: string;
  productId: string;
  productName: string;
  unit: string;
  unitPrice: string;
  currency: string;
  count: string;
  amount: string;
  correlationId: string;
  subscriptionId: string;
  applicationId: string;
  testMode: boolean;
}
/** One tier's (or the one price's) share of a usage line. */
export interface BreakdownEntry {
  /** The tier starts just above this many units beyond the free allowance. */
  from: string;
  /** Its last unit, inclusive; `null`: no end. */
  upTo: string | null;
  quantity: string;
  unitPrice: string;
  /** `PACKAGE` only: packages charged (a started one whole). */
  packages?: string;
  amount: string;
}
export interface UsageLine {
  productId: string;
  productName: string;
  unit: string;
  unitPrice: string;
  quantity: string;
  amount: string;
  pricingModel: PricingModel;
  /** The units that fell into the monthly free allowance. */
  freeQuantity: string;
  breakdown: BreakdownEntry[];
}
export interface Usage {
  subscriptionId: string;
  from: string;
  to: string;
  currency: string;
  testMode: boolean;
  lines: UsageLine[];
  total: string;
}
export type InvoiceStatus = 'OPEN' | 'FINAL';
/** A subscription's bill of one UTC calendar month. */
export interface Invoice {
  subscriptionId: string;
  /** `YYYY-MM` */
  month: string;
  from: string;
  to: string;
  status: InvoiceStatus;
  /** When it is, or became, final. */
  finalAt: string;
  currency: string;
  testMode: boolean;
  lines: UsageLine[];
  total: string;
}
/** A metering event as its call shows it, with what the bill charges for it. */
export interface CallEvent {
  id: string;
  timestamp: string;
  productId: string;
  productName: string;
  unit: string;
  count: string;
  amount: string;
}
/** A gateway call of a subscription, with the metering events it caused. */
export interface Call {
  correlationId: string;
  subscriptionId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
  complete: boolean;
  startedAt: string;
  events: CallEvent[];
  amount: string;
  currency: string;
}
/** A subscription's monthly spend cap and the current month's spending. */
export interface SpendCap {
  subscriptionId: string;
  monthlyCap: string | null;
  currency: string;
  /** The current month, `YYYY-MM`. */
  month: string;
  spent: string;
  /** Whether the gateway refuses the subscription's calls (402) for the rest of the month. */
  reached: boolean;
}
/** A service's revenue of one month. */
export interface Revenue {
  serviceId: string;
  month: string;
  currency: string;
  status: InvoiceStatus;
  finalAt: string;
  subscriptions: {
    subscriptionId: string;
    applicationId: string;
    pricingPlanId: string;
    pricingPlanName: string;
    testMode: boolean;
    total: string;
  }[];
  /** The live subscriptions' totals, summed. */
  total: string;
  /** The test-mode subscriptions' totals, summed. */
  testModeTotal: string;
}
/** A file the platform sent. */
export interface Download {
  blob: Blob;
  filename: string;
}
export interface Build {
  id: string;
  status: 'WORKING' | 'SUCCESS' | 'FAILURE';
  startedAt: string;
  endedAt: string | null;
  validationResult: { state: 'SUCCESS' | 'WARNING' | 'ERROR'; summary: string; messages: string[] };
}
export interface LogEntry {
  message: string;
  severity: 'DEBUG' | 'NOTICE' | 'INFO' | 'WARNING' | 'ERROR';
  timestamp: string;
}
export type ExecutionStatus = 'UNKNOWN' | 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export interface Execution {
  id: string;
  status: ExecutionStatus;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  serviceId: string;
  applicationId: string;
}
export interface ExecutionResult {
  _links?: Record<string, { href: string }>;
  _embedded?: { status: Execution };
  [key: string]: unknown;
}
/** An OpenAPI 3 document, loosely typed: the console only renders it. */
export interface OpenApiDocument {
  openapi: string;
  info?: { title?: string; version?: string; description?: string };
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, unknown> };
  [key: string]: unknown;
}
/** A gateway call's answer, whatever its status. */
export interface GatewayReply {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
  correlationId: string | null;
}

/** Header names the console sends or reads. */
export const HEADER = {
  authorization: 'Authorization',
  contentType: 'Content-Type',
  accept: 'Accept',
  correlationId: 'x-correlation-id',
} as const;

const JSON_TYPE = 'application/json';
const PROBLEM_TYPE = 'application/problem+json';

type Query = Record<string, string | number | boolean | undefined | null>;

function withQuery(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** The problem of a failed answer (a made-up one when the body is none). */
async function problemOf(response: Response): Promise<Problem> {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body === 'object') {
      if (typeof body.status === 'number') return body as Problem;
      // OAuth2 errors: {error, error_description}
      if (typeof body.error === 'string') {
        return { status: response.status, detail: body.error_description || body.error };
      }
    }
  } catch {
    // not JSON: fall through
  }
  return { status: response.status, detail: `${response.status} ${response.statusText}`.trim() };
}

interface CallOptions {
  method?: string;
  query?: Query;
  json?: unknown;
  body?: BodyInit;
  contentType?: string;
  token?: string | null;
  /** The media type asked for; the answer is then read as a file, not as JSON. */
  accept?: string;
}

/** The file name a `Content-Disposition` header gives, else `fallback`. */
function filenameOf(response: Response, fallback: string): string {
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const m = disposition.match(/filename="([^"]+)"/) ?? disposition.match(/filename=([^;\s]+)/);
  return m ? m[1] : fallback;
}

/** One call of the platform API with the signed-in account's token. */
async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A file from the platform API, fetched with the signed-in account's token (a plain link would carry none). */
async function download(path: string, accept: string, fallbackName: string): Promise<Download> {
  const response = await send(path, { accept });
  return { blob: await response.blob(), filename: filenameOf(response, fallbackName) };
}

/** Sends one request of the platform API; a failed answer throws its problem. */
async function send(path: string, options: CallOptions): Promise<Response> {
  const headers: Record<string, string> = { [HEADER.accept]: options.accept ? `${options.accept}, ${PROBLEM_TYPE}` : JSON_TYPE };
  const token = options.token === undefined ? session.token() : options.token;
  if (token) headers[HEADER.authorization] = `Bearer ${token}`;
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers[HEADER.contentType] = JSON_TYPE;
  } else if (options.contentType) {
    headers[HEADER.contentType] = options.contentType;
  }
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method: options.method ?? 'GET',
      headers,
      body,
      cache: 'no-store',
    });
  } catch {
    throw new ApiError({ status: 0, detail: 'The platform cannot be reached. Check your connection and try again.' });
  }
  if (!response.ok) throw new ApiError(await problemOf(response));
  return response;
}

const enc = encodeURIComponent;

/** Every call of the platform API the console makes. */
export const api = {
  // Accounts and personal access tokens
  signUp: (name: string, email: string) =>
    call<CreatedAccount>('/api/accounts', { method: 'POST', json: { name, email }, token: null }),
  me: (token?: string) => call<Account>('/api/me', token === undefined ? {} : { token }),
  accessTokens: () => call<Page<AccessToken>>('/api/access-tokens', { query: { limit: 500 } }),
  createAccessToken: (name: string, scopes: string[], expiresAt: string | null) =>
    call<CreatedAccessToken>('/api/access-tokens', { method: 'POST', json: { name, scopes, expiresAt } }),
  revokeAccessToken: (id: string) => call<void>(`/api/access-tokens/${enc(id)}`, { method: 'DELETE' }),

  // Services
  quantumBackends: () => call<{ items: QuantumBackend[] }>('/api/quantum-backends'),
  services: () => call<Page<Service>>('/api/services', { query: { limit: 500 } }),
  service: (id: string) => call<Service>(`/api/services/${enc(id)}`),
  createService: (input: ServiceInput) => call<Service>('/api/services', { method: 'POST', json: input }),
  updateService: (id: string, input: ServiceInput) =>
    call<Service>(`/api/services/${enc(id)}`, { method: 'PATCH', json: input }),
  deleteService: (id: string) => call<void>(`/api/services/${enc(id)}`, { method: 'DELETE' }),
  apiSpec: (id: string) => call<OpenApiDocument>(`/api/services/${enc(id)}/api-spec`),
  lifecycle: (id: string, action: 'publish-internal' | 'publish' | 'unpublish') =>
    call<Service>(`/api/services/${enc(id)}/${action}`, { method: 'POST' }),
  marketplace: (query: { quantumBackend?: string; q?: string }) =>
    call<Page<MarketplaceService>>('/api/marketplace/services', { query: { ...query, limit: 500 } }),

  // Managed services: source and build
  uploadSource: (id: string, archive: Blob) =>
    call<Build>(`/api/services/${enc(id)}/source`, { method: 'PUT', body: archive, contentType: 'application/zip' }),
  build: (id: string) => call<Build>(`/api/services/${enc(id)}/build`),
  buildLog: (id: string) => call<LogEntry[]>(`/api/services/${enc(id)}/build/log`),

  // Pricing plans
  pricingPlans: (serviceId: string) =>
    call<Page<PricingPlan>>(`/api/services/${enc(serviceId)}/pricing-plans`, { query: { limit: 500 } }),
  createPricingPlan: (serviceId: string, input: PricingPlanInput) =>
    call<PricingPlan>(`/api/services/${enc(serviceId)}/pricing-plans`, { method: 'POST', json: input }),
  updatePricingPlan: (serviceId: string, planId: string, patch: PricingPlanPatch) =>
    call<PricingPlan>(`/api/services/${enc(serviceId)}/pricing-plans/${enc(planId)}`, { method: 'PATCH', json: patch }),
  deletePricingPlan: (serviceId: string, planId: string) =>
    call<void>(`/api/services/${enc(serviceId)}/pricing-plans/${enc(planId)}`, { method: 'DELETE' }),

  // Metering
  meteringEvents: (serviceId: string, query: { from?: string; to?: string; testMode?: boolean; cursor?: string; limit?: number }) =>
    call<Page<MeteringEvent>>(`/api/services/${enc(serviceId)}/metering-events`, { query }),
  usage: (subscriptionId: string, query: { from?: string; to?: string }) =>
    call<Usage>(`/api/subscriptions/${enc(subscriptionId)}/usage`, { query }),
  /** A subscription's gateway calls, newest first, over whole UTC days (`from`, `to`: dates). */
  calls: (subscriptionId: string, query: { from?: string; to?: string; cursor?: string; limit?: number }) =>
    call<Page<Call>>(`/api/subscriptions/${enc(subscriptionId)}/calls`, { query }),
  call: (subscriptionId: string, correlationId: string) =>
    call<Call>(`/api/subscriptions/${enc(subscriptionId)}/calls/${enc(correlationId)}`),

  // Invoices, spend caps and revenue
  invoices: (subscriptionId: string, query: { cursor?: string; limit?: number }) =>
    call<Page<Invoice>>(`/api/subscriptions/${enc(subscriptionId)}/invoices`, { query }),
  invoice: (subscriptionId: string, month: string) =>
    call<Invoice>(`/api/subscriptions/${enc(subscriptionId)}/invoices/${enc(month)}`),
  /** The priced events behind an invoice, as the CSV file the platform names. */
  invoiceEvents: (subscriptionId: string, month: string) =>
    download(
      `/api/subscriptions/${enc(subscriptionId)}/invoices/${enc(month)}/events.csv`,
      'text/csv',
      `${subscriptionId}-${month}-events.csv`,
    ),
  spendCap: (subscriptionId: string) => call<SpendCap>(`/api/subscriptions/${enc(subscriptionId)}/spend-cap`),
  /** Sets the monthly cap in EUR: the decimal as typed, for the API to check. */
  setSpendCap: (subscriptionId: string, monthlyCap: string) =>
    call<SpendCap>(`/api/subscriptions/${enc(subscriptionId)}/spend-cap`, { method: 'PUT', json: { monthlyCap } }),
  removeSpendCap: (subscriptionId: string) =>
    call<void>(`/api/subscriptions/${enc(subscriptionId)}/spend-cap`, { method: 'DELETE' }),
  /** A service's revenue of `month` (`YYYY-MM`; the current month when absent). */
  revenue: (serviceId: string, month?: string) =>
    call<Revenue>(`/api/services/${enc(serviceId)}/revenue`, { query: { month } }),

  // Applications and subscriptions
  applications: () => call<Page<Application>>('/api/applications', { query: { limit: 500 } }),
  application: (id: string) => call<Application>(`/api/applications/${enc(id)}`),
  createApplication: (name: string) => call<CreatedApplication>('/api/applications', { method: 'POST', json: { name } }),
  deleteApplication: (id: string) => call<void>(`/api/applications/${enc(id)}`, { method: 'DELETE' }),
  subscriptions: (applicationId: string) =>
    call<Page<Subscription>>(`/api/applications/${enc(applicationId)}/subscriptions`, { query: { limit: 500 } }),
  subscribe: (applicationId: string, serviceId: string, pricingPlanId: string) =>
    call<Subscription>(`/api/applications/${enc(applicationId)}/subscriptions`, {
      method: 'POST',
      json: { serviceId, pricingPlanId },
    }),
  subscription: (id: string) => call<Subscription>(`/api/subscriptions/${enc(id)}`),
  unsubscribe: (id: string) => call<void>(`/api/subscriptions/${enc(id)}`, { method: 'DELETE' }),
};

// ------------------------------------------------------------ the gateway

/** An application's OAuth2 access token, from the client-credentials grant. */
export async function oauthToken(consumerKey: string, consumerSecret: string): Promise<{ token: string; expiresIn: number }> {
  let response: Response;
  try {
    response = await fetch('/oauth/token', {
      method: 'POST',
      headers: {
        [HEADER.authorization]: `Basic ${btoa(`${consumerKey}:${consumerSecret}`)}`,
        [HEADER.contentType]: 'application/x-www-form-urlencoded;charset=UTF-8',
        [HEADER.accept]: JSON_TYPE,
      },
      body: 'grant_type=client_credentials',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError({ status: 0, detail: 'The platform cannot be reached.' });
  }
  if (!response.ok) throw new ApiError(await problemOf(response));
  const body = await response.json();
  return { token: body.access_token, expiresIn: body.expires_in };
}

/** The gateway address of `path` of service `serviceId`. */
export function gatewayUrl(serviceId: string, path: string): string {
  const rest = path.startsWith('/') ? path : `/${path}`;
  return `/gateway/${enc(serviceId)}${rest}`;
}

/** Sends a request through the gateway and returns whatever it answers. */
export async function gatewayCall(
  accessToken: string,
  serviceId: string,
  request: { method: string; path: string; headers: [string, string][]; body?: string },
): Promise<GatewayReply> {
  const headers = new Headers();
  for (const [name, value] of request.headers) headers.append(name, value);
  headers.set(HEADER.authorization, `Bearer ${accessToken}`);
  const hasBody = request.body !== undefined && request.body !== '' && !['GET', 'HEAD'].includes(request.method);
  if (hasBody && !headers.has(HEADER.contentType)) headers.set(HEADER.contentType, JSON_TYPE);
  let response: Response;
  try {
    response = await fetch(gatewayUrl(serviceId, request.path), {
      method: request.method,
      headers,
      body: hasBody ? request.body : undefined,
      cache: 'no-store',
    });
  } catch {
    throw new ApiError({ status: 0, detail: 'The gateway cannot be reached.' });
  }
  return {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers.entries()],
    body: await response.text(),
    correlationId: response.headers.get(HEADER.correlationId),
  };
}

/** PlanQK's execution API of a managed service, on the gateway. */
export const executions = {
  start: (token: string, serviceId: string, input: unknown) =>
    call<Execution>(gatewayUrl(serviceId, '/'), { method: 'POST', json: input, token }),
  get: (token: string, serviceId: string, id: string) => call<Execution>(gatewayUrl(serviceId, `/${enc(id)}`), { token }),
  log: (token: string, serviceId: string, id: string) =>
    call<LogEntry[]>(gatewayUrl(serviceId, `/${enc(id)}/log`), { token }),
  result: (token: string, serviceId: string, id: string) =>
    call<ExecutionResult>(gatewayUrl(serviceId, `/${enc(id)}/result`), { token }),
  cancel: (token: string, serviceId: string, id: string) =>
    call<Execution>(gatewayUrl(serviceId, `/${enc(id)}/cancel`), { method: 'PUT', token }),
  /** A result file's bytes. */
  file: async (token: string, href: string): Promise<Blob> => {
    const response = await fetch(href, { headers: { [HEADER.authorization]: `Bearer ${token}` }, cache: 'no-store' });
    if (!response.ok) throw new ApiError(await problemOf(response));
    return response.blob();
  },
};

/** Whether an execution has ended. */
export function isFinished(status: ExecutionStatus): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED';
}
