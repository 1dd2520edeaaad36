// The web console in a real browser (Debian's Chromium through
// playwright-core) against the real platform and a worker: the tutorial of
// metering an external service, a managed service's build and execution,
// validation errors shown at their fields, and every page's accessibility
// and looks at 1280 and 390 px. Pages are found by roles and labels only.
//
// Run by scripts/test.sh (after the cargo tests, which build the `qmarket`
// binary): `npm run test:browser` in components/console/web.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startPlatform, REPO } from './support/platform.mjs';
import { startUpstream } from './support/upstream.mjs';
import { startBrowser, screenshotAndAxe, SCREENSHOTS, WIDTHS } from './support/browser.mjs';
import { zip } from './support/zip.mjs';

/** The longest a build or an execution may take here (a busy machine). */
const SLOW = 180_000;
/** The most the first load of `/` may transfer. */
const FIRST_LOAD_BUDGET = 250 * 1000;

const UPSTREAM_USER = 'walker';
const UPSTREAM_PASSWORD = 'upstream-secret-42';
const API_SPEC_YAML = `openapi: 3.0.3
info:
  title: Quantum walk
  version: "1.0"
paths:
  /walk:
    post:
      summary: Runs a quantum walk
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                steps: {type: integer}
      responses:
        "200":
          description: The walk's result
`;

let platform;
let upstream;
let browser;
let page;
/** What the flows made, for the tour of every page. */
const made = {};

before(async () => {
  platform = await startPlatform();
  upstream = await startUpstream(platform.base, { username: UPSTREAM_USER, password: UPSTREAM_PASSWORD });
  browser = await startBrowser(platform.base);
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  await upstream?.stop();
  await platform?.stop();
});

/** The page's main heading (level 1). */
const heading = (name) => page.getByRole('heading', { level: 1, name });
/** Waits until `locator` is visible (a behaviour, not a time). */
const see = (locator, timeout) => locator.waitFor({ state: 'visible', timeout });
/** Waits until `locator`'s element has the focus. */
async function focused(locator) {
  await page.waitForFunction((element) => element === document.activeElement, await locator.elementHandle(), { timeout: 5000 });
}
/** Follows a link of the main navigation and checks it shows where we are. */
async function go(name) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name }).click();
  await see(heading(name === 'My services' ? 'My services' : name));
  assert.equal(await nav.getByRole('link', { name }).getAttribute('aria-current'), 'page');
}

/** Screenshots and checks the page as it is now, among every page's results. */
async function checkState(name) {
  (made.axe ??= {})[name] = await screenshotAndAxe(page, name);
}

/** Creates a pricing plan of one product on the service's page shown now. */
async function createPlan(planName, { name, unitPrice, unit }) {
  await page.getByRole('button', { name: 'Create pricing plan' }).click();
  await page.getByLabel('Plan name').fill(planName);
  const product = page.getByRole('group', { name: 'Product 1' });
  await product.getByLabel('Product name').fill(name);
  await product.getByLabel('Unit price (EUR)').fill(unitPrice);
  await product.getByLabel('Unit', { exact: true }).fill(unit);
  await page.getByRole('button', { name: 'Create plan' }).click();
}

/**
 * Checks that the problem shown in the alert `detail` names each of
 * `fields` ([path, input]) and that the same message stands at its input,
 * which is marked invalid.
 */
async function checkFieldErrors(detail, fields) {
  for (const [field, input] of fields) {
    assert.equal(await input.getAttribute('aria-invalid'), 'true', field);
    // The field's description ends with its error message.
    const described = (await input.getAttribute('aria-describedby')).split(' ');
    const message = await page.evaluate((id) => document.getElementById(id).textContent, described[described.length - 1]);
    assert.ok(message.length > 0 && detail.includes(`${field}: ${message}`), `${field}: ${detail} / ${message}`);
  }
}

/** On the application's page shown now: subscribes it to the service `label` names. */
async function subscribe(label) {
  await page.getByRole('button', { name: 'Subscribe to service' }).click();
  await page.getByLabel('Service', { exact: true }).selectOption({ label });
  await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
}

/** GET of the platform API with the account's personal access token: what the console's pages are checked against. */
async function apiGet(path) {
  const response = await fetch(`${platform.base}${path}`, { headers: { authorization: `Bearer ${made.pat}`, accept: 'application/json' } });
  assert.equal(response.status, 200, `GET ${path}: ${response.status}`);
  return response.json();
}

/**
 * Calls `POST /walk` of service `serviceId` through the gateway `count`
 * times as the application (an OAuth2 token from its consumer key and
 * secret). Returns each answer's status and correlation id, oldest first.
 */
async function gatewayCalls(serviceId, { consumerKey, consumerSecret }, count) {
  const grant = await fetch(`${platform.base}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${consumerKey}:${consumerSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  assert.equal(grant.status, 200);
  const { access_token: token } = await grant.json();
  const answers = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${platform.base}/gateway/${serviceId}/walk`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ steps: i }),
    });
    await response.arrayBuffer();
    answers.push({ status: response.status, correlationId: response.headers.get('x-correlation-id') });
  }
  return answers;
}

/** The subscription's calls as the API lists them, once all `count` are recorded (a call is recorded just after its answer). */
async function recordedCalls(subscriptionId, count) {
  for (let tries = 0; ; tries++) {
    const calls = await apiGet(`/api/subscriptions/${subscriptionId}/calls?limit=500`);
    if (calls.items.length >= count || tries === 100) return calls.items;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An exact decimal string ("0.005", "-1.2") as a whole number of 10^-20 units: sums and comparisons without floating point. */
function exact(text) {
  const m = /^(-?)(\d+)(?:\.(\d{1,20}))?$/.exec(text.trim());
  assert.ok(m, `"${text}" is no decimal`);
  return BigInt(`${m[1]}${m[2]}${(m[3] ?? '').padEnd(20, '0')}`);
}

/** The row of a table's total, under its row heading "Total". */
const totalRow = (table) => table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Total', exact: true }) });
/** The body rows of the tables in `locator`: rows of cells, neither the column headings nor a total under its row heading. */
const bodyRows = (locator) => locator.getByRole('row').filter({ has: page.getByRole('cell') }).filter({ hasNot: page.getByRole('rowheader') });

test('the first load of / transfers at most 250 KB, and hashed assets are cached as immutable', async (t) => {
  const fresh = await browser.context.newPage();
  const responses = [];
  fresh.on('response', (r) => responses.push(r));
  await fresh.goto(`${platform.base}/`, { waitUntil: 'networkidle' });
  await see(fresh.getByRole('heading', { level: 1, name: 'Welcome to qmarket' }));
  let bytes = 0;
  for (const r of responses) {
    const sizes = await r.request().sizes();
    bytes += sizes.responseBodySize + sizes.responseHeadersSize;
  }
  t.diagnostic(`first load of /: ${bytes} bytes in ${responses.length} responses`);
  assert.ok(bytes <= FIRST_LOAD_BUDGET, `${bytes} bytes`);
  const page0 = responses.find((r) => new URL(r.url()).pathname === '/');
  assert.equal(page0.headers()['cache-control'], 'no-cache');
  const assets = responses.filter((r) => new URL(r.url()).pathname.startsWith('/assets/'));
  assert.ok(assets.length >= 2, 'a script and a stylesheet');
  for (const asset of assets) assert.equal(asset.headers()['cache-control'], 'public, max-age=31536000, immutable');
  assert.ok(responses.every((r) => r.url().startsWith(platform.base)), 'nothing from elsewhere');
  await fresh.close();
});

test('a provider walks the external-service tutorial: service, plan, token, test subscription, Try it out, metering event and bill', async () => {
  // Sign up: the personal access token is shown once.
  await page.goto(`${platform.base}/`);
  await see(heading('Welcome to qmarket'));
  const signUp = page.getByRole('form', { name: 'Sign up' });
  await signUp.getByLabel('Name', { exact: true }).fill('Ada Provider');
  await signUp.getByLabel('Email').fill('ada@example.org');
  await signUp.getByRole('button', { name: 'Sign up' }).click();
  await see(heading('Welcome, Ada Provider'));
  made.pat = await page.getByRole('textbox', { name: 'Personal access token', exact: true }).inputValue();
  assert.match(made.pat, /\S{20,}/);
  await checkState('signed-up');
  await page.getByRole('button', { name: 'Continue to the console' }).click();
  await see(heading('My services'));
  await see(page.getByText('You have no services yet.'));

  // Create the external service with every field.
  await page.getByRole('link', { name: 'Create service' }).click();
  await see(heading('Create service'));
  await page.getByRole('radio', { name: /External service/ }).check();
  await page.getByLabel('Name', { exact: true }).fill('Quantum walk');
  await page.getByLabel('Description').fill('Walks a graph with a quantum walk.');
  await page.getByLabel('Quantum backend').selectOption('SIMULATOR');
  await page.getByLabel('URL', { exact: true }).fill(upstream.url);
  await page.getByLabel('Authentication').selectOption({ label: 'HTTP Basic' });
  await page.getByLabel('Username', { exact: true }).fill(UPSTREAM_USER);
  await page.getByLabel('Password', { exact: true }).fill(UPSTREAM_PASSWORD);
  await page
    .getByLabel('API specification (OpenAPI, JSON or YAML)')
    .setInputFiles({ name: 'api-spec.yaml', mimeType: 'application/yaml', buffer: Buffer.from(API_SPEC_YAML) });
  await page.getByRole('button', { name: 'Create service' }).click();
  await see(heading('Quantum walk'));
  made.servicePath = new URL(page.url()).pathname;
  made.serviceId = made.servicePath.split('/').pop();
  await see(page.getByRole('region', { name: 'API specification' }).getByText('/walk'));

  // The pay-per-use plan: API, 0.00001 per call; copy the product id.
  await createPlan('Pay per use', { name: 'API', unitPrice: '0.00001', unit: 'call' });
  const row = page.getByRole('row').filter({ hasText: 'API' }).filter({ hasText: '0.00001 EUR' });
  await see(row);
  assert.match(await row.textContent(), /call/);
  await row.getByRole('button', { name: 'Copy product id of API' }).click();
  await see(row.getByRole('status').getByText('Copied'));
  made.productId = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(made.productId, /^prod_/);
  upstream.config.productId = made.productId;

  // An access token with the API scope for the service's metering.
  await go('Access tokens');
  await page.getByLabel('Token name').fill('Quantum walk metering');
  assert.equal(await page.getByRole('checkbox', { name: /API/ }).isChecked(), true);
  await page.getByRole('button', { name: 'Create token' }).click();
  const tokenField = page.getByRole('textbox', { name: 'Access token Quantum walk metering', exact: true });
  await see(tokenField);
  upstream.config.accessToken = await tokenField.inputValue();
  await see(page.getByRole('row').filter({ hasText: 'Quantum walk metering' }));

  // Publish internal: the lifecycle shows it.
  await go('My services');
  await page.getByRole('link', { name: 'Quantum walk' }).click();
  await see(heading('Quantum walk'));
  await page.getByRole('button', { name: 'Publish internal' }).click();
  await see(page.getByRole('region', { name: 'Lifecycle' }).getByRole('status').getByText('Published internally (test mode)'));
  assert.equal(
    await page.getByRole('list', { name: 'Lifecycle' }).getByRole('listitem').filter({ hasText: 'Published internally' }).getAttribute('aria-current'),
    'step',
  );

  // An application: key and secret shown once, with a warning.
  await go('Applications');
  await see(page.getByText('No applications yet.'));
  await page.getByLabel('Application name').fill('Walk client');
  await page.getByRole('button', { name: 'Create application' }).click();
  const secret = page.getByRole('textbox', { name: 'Consumer secret', exact: true });
  await see(secret);
  await see(page.getByText('Copy the consumer secret now: it is shown only this once.'));
  made.consumerSecret = await secret.inputValue();
  assert.ok(made.consumerSecret.length > 10);
  await checkState('application-created');
  await page.getByRole('button', { name: 'Copy consumer secret' }).click();

  // Subscribe it to the service (test mode).
  await page.getByRole('link', { name: 'Open Walk client' }).click();
  await see(heading('Walk client'));
  made.applicationPath = new URL(page.url()).pathname;
  await subscribe('Quantum walk (internal, test mode)');
  const subscription = page.getByRole('row').filter({ hasText: 'Quantum walk' });
  await see(subscription.getByText('Test mode'));

  // Try it out: a POST through the gateway, with its correlation id.
  await subscription.getByRole('link', { name: /Try it out/ }).click();
  await see(heading('Try it out: Quantum walk'));
  made.tryPath = new URL(page.url()).pathname;
  await page.getByLabel('Method').selectOption('POST');
  await page.getByLabel('Path').fill('/walk');
  await page.getByLabel('Headers').fill('X-Shots: 100');
  await page.getByLabel('Body (JSON)').fill('{"steps": 3}');
  await page.getByRole('button', { name: 'Send request' }).click();
  const response = page.getByRole('region', { name: 'Response' });
  await see(response.getByLabel('Status', { exact: true }).getByText('200'));
  const correlationId = (await response.getByLabel('Correlation id', { exact: true }).textContent()).trim();
  const body = JSON.parse(await page.getByLabel('Response body').textContent());
  assert.equal(body.correlationId, correlationId);
  assert.equal(upstream.calls.length, 1);
  assert.equal(upstream.calls[0].url, '/api/walk');
  assert.equal(upstream.calls[0].correlationId, correlationId);
  made.correlationId = correlationId;
  await checkState('try-it-out-response');

  // The metering event on the service's page, in test mode.
  await go('My services');
  await page.getByRole('link', { name: 'Quantum walk' }).click();
  const events = page.getByRole('region', { name: 'Metering events' });
  await events.getByLabel('Mode').selectOption({ label: 'Test mode only' });
  await events.getByRole('button', { name: 'Apply filters' }).click();
  const event = events.getByRole('row').filter({ hasText: correlationId });
  await see(event);
  const eventText = await event.textContent();
  assert.match(eventText, /API/);
  assert.match(eventText, /0\.00001 EUR/);
  assert.match(eventText, /Test/);

  // The bill on the usage page: 1 call at 0.00001 EUR.
  await go('Usage');
  const usage = page.getByRole('article', { name: /Quantum walk/ });
  const line = usage.getByRole('row').filter({ hasText: 'API' });
  await see(line);
  assert.match(await line.textContent(), /1 call.*0\.00001 EUR.*0\.00001 EUR/);
  assert.match(await usage.getByRole('row').filter({ hasText: 'Total' }).textContent(), /0\.00001 EUR/);
  await see(usage.getByRole('img', { name: /Usage of Quantum walk per day/ }));
});

test('a provider runs a managed service: ZIP upload, build succeeded, execution with its log, result and result file', async () => {
  const program = readFileSync(join(REPO, 'target/wasm32-wasip2/release/wasm-command.wasm'));
  await go('My services');
  await page.getByRole('link', { name: 'Create service' }).click();
  await page.getByRole('radio', { name: /Managed service/ }).check();
  await page.getByLabel('Name', { exact: true }).fill('Sum on WASM');
  await page.getByLabel('Description').fill('Sums numbers in a WebAssembly program.');
  await page.getByLabel('Runtime').selectOption('WASM');
  await page.getByLabel('Timeout (seconds)').fill('120');
  await page
    .getByLabel('Code archive (ZIP)')
    .setInputFiles({ name: 'sum.zip', mimeType: 'application/zip', buffer: zip([['program.wasm', program]]) });
  await page.getByRole('button', { name: 'Create service' }).click();
  await see(heading('Sum on WASM'));
  made.managedPath = new URL(page.url()).pathname;
  const build = page.getByRole('region', { name: 'Code and build' });
  await see(build.getByText('Build succeeded', { exact: true }), SLOW);
  await see(build.getByRole('list', { name: 'Build log' }));

  await createPlan('Per run', { name: 'Run', unitPrice: '0.01', unit: 'execution' });
  await see(page.getByRole('button', { name: 'Copy product id of Run' }));
  await page.getByRole('button', { name: 'Publish internal' }).click();
  await see(page.getByRole('region', { name: 'Lifecycle' }).getByRole('status').getByText('Published internally (test mode)'));

  await go('Applications');
  await page.getByRole('link', { name: 'Walk client' }).click();
  await subscribe('Sum on WASM (internal, test mode)');
  await page.getByRole('row').filter({ hasText: 'Sum on WASM' }).getByRole('link', { name: /Try it out/ }).click();
  await see(heading('Try it out: Sum on WASM'));
  made.tryManagedPath = new URL(page.url()).pathname;

  // A sum: its result and its result file.
  const execution = page.getByRole('region', { name: 'Execution' });
  await execution.getByLabel('Input (JSON)').fill('{"data": {"numbers": [1, 2, 3]}, "params": {}}');
  await execution.getByRole('button', { name: 'Start execution' }).click();
  await see(execution.getByRole('status').getByText('SUCCEEDED'), SLOW);
  const result = JSON.parse(await execution.getByLabel('Execution result').textContent());
  assert.equal(result.sum, 6);
  assert.equal(result.count, 3);
  const download = page.waitForEvent('download');
  await execution.getByRole('button', { name: 'Download sum.txt' }).click();
  const file = await download;
  assert.equal(readFileSync(await file.path(), 'utf8'), '6');

  // A program that logs: its lines show up.
  await execution.getByLabel('Input (JSON)').fill('{"data": {"mode": "log"}, "params": {}}');
  await execution.getByRole('button', { name: 'Start execution' }).click();
  const log = execution.getByRole('list', { name: 'Execution log' });
  await see(log.getByText('halfway'), SLOW);
  await see(execution.getByRole('status').getByText('SUCCEEDED'), SLOW);
  await see(log.getByText('almost done'));
  await checkState('try-it-out-execution');
  assert.ok(JSON.parse(await execution.getByLabel('Execution result').textContent()).finished_at_ms > 0);
});

test('validation errors show next to their fields: a bad URL, and a folder-zipped archive', async () => {
  // A URL that is no URL: the problem's message at the URL field.
  await go('My services');
  await page.getByRole('link', { name: 'Create service' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Broken');
  await page.getByLabel('URL', { exact: true }).fill('not a url');
  await page.getByRole('button', { name: 'Create service' }).click();
  const url = page.getByLabel('URL', { exact: true });
  await see(page.getByRole('alert'));
  assert.equal(await url.getAttribute('aria-invalid'), 'true');
  // The field's description ends with the problem's message for `url`, which the problem's detail names.
  const described = (await url.getAttribute('aria-describedby')).split(' ');
  const message = await page.evaluate((id) => document.getElementById(id).textContent, described[described.length - 1]);
  const detail = await page.getByRole('alert').textContent();
  assert.ok(message.length > 0);
  assert.ok(detail.includes(`url: ${message}`), `${detail} / ${message}`);
  made.badUrlMessage = message;
  await checkState('create-service-bad-url');

  // The project's folder zipped instead of its contents.
  await page.goto(`${platform.base}${made.managedPath}`);
  await see(heading('Sum on WASM'));
  const build = page.getByRole('region', { name: 'Code and build' });
  await build
    .getByLabel('Code archive (ZIP)')
    .setInputFiles({ name: 'project.zip', mimeType: 'application/zip', buffer: zip([['project/program.wasm', Buffer.from('\0asm')]]) });
  await build.getByRole('button', { name: 'Upload code' }).click();
  await see(build.getByText('Build failed', { exact: true }), SLOW);
  const messages = build.getByRole('list', { name: 'Validation messages' });
  await see(messages.getByText(/zip its contents instead/));
  await checkState('service-managed-folder-zip');
});

test('a service is edited, and deleted only once the deletion is confirmed', async () => {
  await go('My services');
  await page.getByRole('link', { name: 'Create service' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Temporary');
  await page.getByLabel('URL', { exact: true }).fill('https://walk.example.org/api');
  await page.getByRole('button', { name: 'Create service' }).click();
  await see(heading('Temporary'));

  await page.getByRole('link', { name: 'Edit' }).click();
  await see(heading('Edit Temporary'));
  await page.getByLabel('Description').fill('Changed in the console.');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await see(heading('Temporary'));
  await see(page.getByText('Changed in the console.').first());

  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: /Delete the service Temporary/ });
  await see(dialog);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await see(heading('Temporary'));
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await dialog.getByRole('button', { name: 'Delete service' }).click();
  await see(heading('My services'));
  await see(page.getByRole('link', { name: 'Quantum walk' }));
  assert.equal(await page.getByRole('link', { name: 'Temporary' }).count(), 0);
});

test('a pricing plan is edited in its form: name, pricing and limits are stored as entered; once it has subscriptions, its products are refused with the platform’s reason and only its name may change', async () => {
  await go('My services');
  await page.getByRole('link', { name: 'Create service' }).click();
  await see(heading('Create service'));
  await page.getByLabel('Name', { exact: true }).fill('Graph search');
  await page.getByLabel('URL', { exact: true }).fill('https://search.example.org/api');
  await page.getByRole('button', { name: 'Create service' }).click();
  await see(heading('Graph search'));
  const servicePath = new URL(page.url()).pathname;
  const serviceId = servicePath.split('/').pop();
  await createPlan('Starter', { name: 'Search', unitPrice: '0.002', unit: 'query' });
  await see(page.getByRole('article', { name: /Starter/ }).getByText('0.002 EUR per query'));
  const [created] = (await apiGet(`/api/services/${serviceId}/pricing-plans`)).items;
  const planPath = `/api/services/${serviceId}/pricing-plans/${created.id}`;
  /** The form of the plan named `name`, opened by its Edit button; its heading has the focus. */
  const openEditForm = async (name) => {
    await page.getByRole('button', { name: `Edit plan ${name}`, exact: true }).click();
    const form = page.getByRole('form', { name: `Edit plan ${name}` });
    await focused(form.getByRole('heading', { name: `Edit plan ${name}` }));
    return form;
  };
  /** Saves `form`; resolves with the platform's answer to the change. */
  const save = async (form) => {
    const answer = page.waitForResponse((r) => r.request().method() === 'PATCH' && new URL(r.url()).pathname === planPath);
    await form.getByRole('button', { name: 'Save plan' }).click();
    return answer;
  };

  // The form holds the plan as it is.
  const form = await openEditForm('Starter');
  const product = form.getByRole('group', { name: 'Product 1' });
  assert.deepEqual(
    {
      name: await form.getByLabel('Plan name').inputValue(),
      type: await form.getByLabel('Plan type').inputValue(),
      product: await product.getByLabel('Product name').inputValue(),
      unit: await product.getByLabel('Unit', { exact: true }).inputValue(),
      model: await product.getByLabel('Pricing model').inputValue(),
      price: await product.getByLabel('Unit price (EUR)').inputValue(),
      rateLimit: await form.getByLabel('Rate limit (requests)').inputValue(),
      quota: await form.getByLabel('Quota (requests)').inputValue(),
    },
    { name: 'Starter', type: 'COMMERCIAL', product: 'Search', unit: 'query', model: 'PER_UNIT', price: '0.002', rateLimit: '', quota: '' },
  );

  // A new name, graduated tiers with a free allowance, and limits; first
  // with a negative price, refused at its field, and nothing stored.
  await form.getByLabel('Plan name').fill('Starter plus');
  await product.getByLabel('Pricing model').selectOption({ label: 'Graduated tiers' });
  const tier1 = product.getByRole('group', { name: 'Tier 1', exact: true });
  const tier2 = product.getByRole('group', { name: 'Tier 2', exact: true });
  await tier1.getByLabel('Up to (units)').fill('100');
  await tier1.getByLabel('Unit price (EUR)').fill('0.002');
  await tier2.getByLabel('Unit price (EUR)').fill('-0.001');
  await product.getByLabel('Free allowance (units per month)').fill('10');
  await form.getByLabel('Rate limit (requests)').fill('5');
  await form.getByLabel('Rate limit per').selectOption({ label: 'Minute' });
  await form.getByLabel('Quota (requests)').fill('500');
  await form.getByLabel('Quota per').selectOption({ label: 'Calendar month (UTC)' });
  assert.equal((await save(form)).status(), 400);
  await see(form.getByRole('alert'));
  await checkFieldErrors(await form.getByRole('alert').textContent(), [['products[0].tiers[1].unitPrice', tier2.getByLabel('Unit price (EUR)')]]);
  assert.equal(await tier1.getByLabel('Unit price (EUR)').getAttribute('aria-invalid'), null);
  await checkState('plan-edit-errors');
  assert.deepEqual(await apiGet(planPath), created);

  await tier2.getByLabel('Unit price (EUR)').fill('0.001');
  assert.equal((await save(form)).status(), 200);
  await form.waitFor({ state: 'hidden' });
  await focused(page.getByRole('button', { name: 'Edit plan Starter plus', exact: true }));
  const edited = await apiGet(planPath);
  assert.equal(edited.name, 'Starter plus');
  assert.equal(edited.type, 'COMMERCIAL');
  assert.deepEqual(edited.products, [
    {
      id: created.products[0].id,
      name: 'Search',
      unit: 'query',
      unitPrice: '0.002',
      pricingModel: 'GRADUATED',
      tiers: [
        { upTo: '100', unitPrice: '0.002' },
        { upTo: null, unitPrice: '0.001' },
      ],
      freeAllowance: '10',
    },
  ]);
  assert.deepEqual(edited.limits, { rateLimit: { requests: 5, per: 'MINUTE' }, quota: { requests: 500, per: 'MONTH' } });
  const card = page.getByRole('article', { name: /Starter plus/ });
  const words = card.getByRole('row').filter({ hasText: 'Search' });
  await see(words.getByText('First 100 query: 0.002 EUR per query'));
  await see(words.getByText('Above 100 query: 0.001 EUR per query'));
  await see(words.getByText(/Free allowance: 10 query per calendar month/));
  const limits = card.getByRole('region', { name: 'Limits of Starter plus' });
  await see(limits.getByText('At most 5 requests per minute.'));
  await see(limits.getByText('At most 500 requests per calendar month (UTC).'));

  // Walk client subscribes (test mode): from now on the products are frozen.
  await page.getByRole('button', { name: 'Publish internal' }).click();
  await see(page.getByRole('region', { name: 'Lifecycle' }).getByRole('status').getByText('Published internally (test mode)'));
  await page.goto(`${platform.base}${made.applicationPath}`);
  await see(heading('Walk client'));
  await subscribe('Graph search (internal, test mode)');
  await see(page.getByRole('row').filter({ hasText: 'Graph search' }).getByText('Test mode'));
  await page.goto(`${platform.base}${servicePath}`);
  await see(heading('Graph search'));

  // A new tier price is refused: the platform's reason shows in the form,
  // at no field, and the plan stays as it was.
  const frozen = await openEditForm('Starter plus');
  const frozenTiers = frozen.getByRole('group', { name: 'Product 1' });
  const frozenPrice = frozenTiers.getByRole('group', { name: 'Tier 2', exact: true }).getByLabel('Unit price (EUR)');
  assert.equal(await frozenTiers.getByRole('group', { name: 'Tier 1', exact: true }).getByLabel('Up to (units)').inputValue(), '100');
  assert.equal(await frozenPrice.inputValue(), '0.001');
  await frozenPrice.fill('0.0005');
  const refused = await save(frozen);
  assert.equal(refused.status(), 409);
  const { detail } = await refused.json();
  assert.match(detail, /has subscriptions/);
  await see(frozen.getByRole('alert'));
  assert.equal((await frozen.getByRole('alert').textContent()).trim(), detail);
  assert.equal(await frozenPrice.getAttribute('aria-invalid'), null);
  await checkState('plan-edit-refused');
  assert.deepEqual(await apiGet(planPath), edited);

  // Its name still may change.
  await frozenPrice.fill('0.001');
  await frozen.getByLabel('Plan name').fill('Starter classic');
  assert.equal((await save(frozen)).status(), 200);
  await frozen.waitFor({ state: 'hidden' });
  await focused(page.getByRole('button', { name: 'Edit plan Starter classic', exact: true }));
  const renamed = await apiGet(planPath);
  assert.equal(renamed.name, 'Starter classic');
  assert.deepEqual({ ...renamed, name: edited.name, updatedAt: edited.updatedAt }, edited);
  await see(page.getByRole('article', { name: /Starter classic/ }).getByText('Above 100 query: 0.001 EUR per query'));
});

test('a tiered plan through to the bill: calls with their costs, the invoice tier by tier with its events as CSV, a spend cap, and the revenue', async () => {
  const tiered = await startUpstream(platform.base, { username: UPSTREAM_USER, password: UPSTREAM_PASSWORD });
  try {
    tiered.config.accessToken = upstream.config.accessToken;
    await go('My services');
    await page.getByRole('link', { name: 'Create service' }).click();
    await see(heading('Create service'));
    await page.getByRole('radio', { name: /External service/ }).check();
    await page.getByLabel('Name', { exact: true }).fill('Tiered walk');
    await page.getByLabel('URL', { exact: true }).fill(tiered.url);
    await page.getByLabel('Authentication').selectOption({ label: 'HTTP Basic' });
    await page.getByLabel('Username', { exact: true }).fill(UPSTREAM_USER);
    await page.getByLabel('Password', { exact: true }).fill(UPSTREAM_PASSWORD);
    await page.getByRole('button', { name: 'Create service' }).click();
    await see(heading('Tiered walk'));
    made.tieredPath = new URL(page.url()).pathname;
    const serviceId = made.tieredPath.split('/').pop();

    // A graduated product with a free allowance, and limits; first with two
    // invalid fields, whose problems show at those fields.
    await page.getByRole('button', { name: 'Create pricing plan' }).click();
    await page.getByLabel('Plan name').fill('Tiered');
    const product = page.getByRole('group', { name: 'Product 1' });
    await product.getByLabel('Product name').fill('API');
    await product.getByLabel('Unit', { exact: true }).fill('call');
    await product.getByLabel('Pricing model').selectOption({ label: 'Graduated tiers' });
    await product.getByLabel('Free allowance (units per month)').fill('1');
    const tier1 = product.getByRole('group', { name: 'Tier 1', exact: true });
    const tier2 = product.getByRole('group', { name: 'Tier 2', exact: true });
    await tier1.getByLabel('Up to (units)').fill('two');
    await tier1.getByLabel('Unit price (EUR)').fill('0.01');
    assert.equal(await tier2.getByLabel('Up to (units)').count(), 0, 'the last tier has no upper bound');
    await tier2.getByLabel('Unit price (EUR)').fill('0.005');
    await page.getByLabel('Rate limit (requests)').fill('0');
    await page.getByLabel('Rate limit per').selectOption({ label: 'Minute' });
    await page.getByLabel('Quota (requests)').fill('1000');
    await page.getByLabel('Quota per').selectOption({ label: 'Day (UTC)' });
    await page.getByRole('button', { name: 'Create plan' }).click();
    await see(page.getByRole('alert'));
    await checkFieldErrors(await page.getByRole('alert').textContent(), [
      ['products[0].tiers[0].upTo', tier1.getByLabel('Up to (units)')],
      ['limits.rateLimit.requests', page.getByLabel('Rate limit (requests)')],
    ]);
    assert.equal(await tier1.getByLabel('Unit price (EUR)').getAttribute('aria-invalid'), null);
    await checkState('plan-form-errors');
    await tier1.getByLabel('Up to (units)').fill('2');
    await page.getByLabel('Rate limit (requests)').fill('100');
    await page.getByRole('button', { name: 'Create plan' }).click();

    // The plan in words: tiers, allowance, limits; and as the API has it.
    const plan = page.getByRole('article', { name: /Tiered/ });
    const productRow = plan.getByRole('row').filter({ hasText: 'API' });
    await see(productRow);
    const words = await productRow.textContent();
    assert.match(words, /Graduated tiers/);
    assert.match(words, /First 2 call: 0\.01 EUR per call/);
    assert.match(words, /Above 2 call: 0\.005 EUR per call/);
    assert.match(words, /Free allowance: 1 call per calendar month/);
    const limits = plan.getByRole('region', { name: 'Limits of Tiered' });
    await see(limits.getByText('At most 100 requests per minute.'));
    await see(limits.getByText('At most 1000 requests per day (UTC).'));
    await productRow.getByRole('button', { name: 'Copy product id of API' }).click();
    tiered.config.productId = await page.evaluate(() => navigator.clipboard.readText());
    const [apiPlan] = (await apiGet(`/api/services/${serviceId}/pricing-plans`)).items;
    assert.equal(apiPlan.products[0].id, tiered.config.productId);
    assert.equal(apiPlan.products[0].pricingModel, 'GRADUATED');
    assert.equal(apiPlan.products[0].freeAllowance, '1');
    assert.deepEqual(apiPlan.products[0].tiers, [
      { upTo: '2', unitPrice: '0.01' },
      { upTo: null, unitPrice: '0.005' },
    ]);
    assert.deepEqual(apiPlan.limits, { rateLimit: { requests: 100, per: 'MINUTE' }, quota: { requests: 1000, per: 'DAY' } });

    // A test-mode subscription of Walk client (published internally), 3 calls.
    await page.getByRole('button', { name: 'Publish internal' }).click();
    await see(page.getByRole('region', { name: 'Lifecycle' }).getByRole('status').getByText('Published internally (test mode)'));
    const apps = (await apiGet('/api/applications')).items;
    const walkClient = { ...apps.find((a) => a.name === 'Walk client'), consumerSecret: made.consumerSecret };
    await page.goto(`${platform.base}${made.applicationPath}`);
    await see(heading('Walk client'));
    await subscribe('Tiered walk (internal, test mode)');
    await see(page.getByRole('row').filter({ hasText: 'Tiered walk' }).getByText('Test mode'));
    const testCalls = await gatewayCalls(serviceId, walkClient, 3);
    assert.deepEqual(testCalls.map((c) => c.status), [200, 200, 200]);

    // Published: a live subscription of a new application, 12 calls.
    await page.goto(`${platform.base}${made.tieredPath}`);
    await see(heading('Tiered walk'));
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await see(page.getByText('Published on the marketplace'));
    await go('Applications');
    await page.getByLabel('Application name').fill('Tier client');
    await page.getByRole('button', { name: 'Create application' }).click();
    const tierClient = {
      consumerKey: await page.getByRole('textbox', { name: 'Consumer key', exact: true }).inputValue(),
      consumerSecret: await page.getByRole('textbox', { name: 'Consumer secret', exact: true }).inputValue(),
    };
    await page.getByRole('link', { name: 'Open Tier client' }).click();
    await see(heading('Tier client'));
    await subscribe('Tiered walk');
    const subscriptionRow = page.getByRole('row').filter({ hasText: 'Tiered walk' });
    await see(subscriptionRow.getByText('Live'));
    const liveCalls = await gatewayCalls(serviceId, tierClient, 12);
    assert.deepEqual(liveCalls.map((c) => c.status), Array(12).fill(200));

    // The billing page: the subscription's pricing and limits.
    await subscriptionRow.getByRole('link', { name: 'Billing: Tiered walk' }).click();
    await see(heading('Billing of Tiered walk'));
    made.billingPath = new URL(page.url()).pathname;
    const subscriptionId = made.billingPath.split('/').pop();
    const pricing = page.getByRole('region', { name: 'Pricing and limits' });
    await see(pricing.getByText('At most 100 requests per minute.'));
    await see(pricing.getByText(/First 2 call: 0\.01 EUR per call/));

    // The calls, newest first, each with its usage and what the bill charges
    // for it: the first call free, the next 2 at tier 1, the rest at tier 2.
    const apiCalls = await recordedCalls(subscriptionId, 12);
    assert.deepEqual(apiCalls.map((c) => c.correlationId), liveCalls.map((c) => c.correlationId).reverse());
    assert.deepEqual(
      apiCalls.map((c) => exact(c.amount)).reverse(),
      ['0', '0.01', '0.01', ...Array(9).fill('0.005')].map(exact),
    );
    const calls = page.getByRole('region', { name: 'Calls' });
    await calls.getByRole('button', { name: 'Refresh' }).click();
    const callRows = bodyRows(calls);
    await see(callRows.filter({ hasText: apiCalls[0].correlationId }));
    const checkCallRows = async (expected) => {
      assert.equal(await callRows.count(), expected.length);
      for (let i = 0; i < expected.length; i++) {
        const text = await callRows.nth(i).textContent();
        const call = expected[i];
        assert.ok(text.includes(call.correlationId), `row ${i}: ${text}`);
        assert.ok(text.includes('POST /walk') && text.includes('200'), text);
        assert.ok(text.includes(`1 call of API: ${call.events[0].amount} EUR`), text);
        assert.ok(text.includes(`${call.amount} EUR`), text);
        assert.ok(text.includes(`${call.requestBytes} sent, ${call.responseBytes} received`), text);
      }
    };
    await checkCallRows(apiCalls.slice(0, 10));
    await calls.getByRole('button', { name: 'Older calls' }).click();
    await see(callRows.filter({ hasText: apiCalls[11].correlationId }));
    await checkCallRows(apiCalls.slice(10));
    assert.equal(await calls.getByRole('button', { name: 'Older calls' }).isDisabled(), true);
    await calls.getByRole('button', { name: 'Newer calls' }).click();
    await see(callRows.filter({ hasText: apiCalls[0].correlationId }));

    // The date filter: tomorrow (UTC) has no calls; today has them all.
    const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    await calls.getByLabel('From').fill(day(1));
    await calls.getByLabel('To').fill(day(1));
    await calls.getByRole('button', { name: 'Apply filters' }).click();
    await see(calls.getByText('No calls in this range.'));
    await calls.getByLabel('From').fill(day(0));
    await calls.getByLabel('To').fill(day(0));
    await calls.getByRole('button', { name: 'Apply filters' }).click();
    await see(callRows.filter({ hasText: apiCalls[0].correlationId }));
    await checkCallRows(apiCalls.slice(0, 10));

    // One call's details, by its correlation id.
    const chosen = apiCalls[8];
    await calls.getByRole('link', { name: chosen.correlationId }).click();
    await see(heading('Call POST /walk'));
    made.callPath = new URL(page.url()).pathname;
    await see(page.getByText(chosen.correlationId));
    const event = bodyRows(page.getByRole('table', { name: 'Metering events of the call' }));
    assert.equal(await event.count(), 1);
    const eventText = await event.textContent();
    assert.ok(eventText.includes(chosen.events[0].id) && eventText.includes('1 call') && eventText.includes(`${chosen.events[0].amount} EUR`), eventText);
    await page.getByRole('link', { name: 'Billing of Tiered walk' }).click();
    await see(heading('Billing of Tiered walk'));

    // The open invoice: its total, its lines tier by tier, as the API computes them.
    const [apiInvoice] = (await apiGet(`/api/subscriptions/${subscriptionId}/invoices`)).items;
    assert.equal(apiInvoice.status, 'OPEN');
    assert.equal(exact(apiInvoice.total), apiCalls.reduce((sum, c) => sum + exact(c.amount), 0n), 'the calls add up to the bill');
    const invoiceRow = bodyRows(page.getByRole('region', { name: 'Invoices' })).filter({ hasText: 'Open' });
    await see(invoiceRow);
    assert.ok((await invoiceRow.textContent()).includes(`${apiInvoice.total} EUR`));
    await invoiceRow.getByRole('link').click();
    await see(heading(/^Invoice .*: Tiered walk$/));
    made.invoicePath = new URL(page.url()).pathname;
    assert.equal(made.invoicePath.split('/').pop(), apiInvoice.month);
    const bill = page.getByRole('table', { name: /Lines of the invoice/ });
    const [line] = apiInvoice.lines;
    assert.deepEqual(
      { quantity: line.quantity, freeQuantity: line.freeQuantity, tiers: line.breakdown.map((b) => b.quantity) },
      { quantity: '12', freeQuantity: '1', tiers: ['2', '9'] },
    );
    const lineText = await bodyRows(bill).filter({ hasText: 'API' }).textContent();
    assert.ok(lineText.includes('12 call') && lineText.includes(`${line.amount} EUR`), lineText);
    assert.ok((await bodyRows(bill).filter({ hasText: 'Free allowance' }).textContent()).includes('1 call'));
    for (const [i, b] of line.breakdown.entries()) {
      const text = await bodyRows(bill).filter({ hasText: `Tier ${i + 1}:` }).textContent();
      assert.ok(text.includes(`${b.quantity} call`) && text.includes(`${b.unitPrice} EUR per call`) && text.includes(`${b.amount} EUR`), text);
    }
    assert.match(await bodyRows(bill).filter({ hasText: 'Tier 1:' }).textContent(), /First 2 call/);
    assert.match(await bodyRows(bill).filter({ hasText: 'Tier 2:' }).textContent(), /Above 2 call/);
    const totalText = await totalRow(bill).textContent();
    assert.ok(totalText.includes(`${apiInvoice.total} EUR`), totalText);
    await checkState('invoice-open');

    // The month's events as CSV, fetched with the token: its rows add up to the total.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download events (CSV)' }).click();
    const file = await download;
    assert.equal(file.suggestedFilename(), `${subscriptionId}-${apiInvoice.month}-events.csv`);
    const [header, ...rows] = readFileSync(await file.path(), 'utf8').split('\r\n').filter(Boolean);
    assert.equal(header, 'id,timestamp,productId,productName,unit,count,amount,correlationId');
    assert.equal(rows.length, 12);
    const cells = rows.map((r) => r.split(','));
    assert.deepEqual(cells.map((c) => c[7]), liveCalls.map((c) => c.correlationId));
    assert.equal(cells.reduce((sum, c) => sum + exact(c[6]), 0n), exact(apiInvoice.total));

    // The spend cap: a bad amount is refused at its field; a cap below the
    // month's spending stops calls (402); removed, calls pass again.
    await page.getByRole('link', { name: 'Billing of Tiered walk' }).click();
    await see(heading('Billing of Tiered walk'));
    const cap = page.getByRole('region', { name: 'Spend cap' });
    await see(cap.getByText('Admitted: no cap'));
    assert.ok((await cap.textContent()).includes(`${apiInvoice.total} EUR`), 'the month’s spending');
    const capField = cap.getByLabel('Monthly cap (EUR)');
    await capField.fill('-1');
    await cap.getByRole('button', { name: 'Set cap' }).click();
    await see(cap.getByRole('alert'));
    assert.equal(await capField.getAttribute('aria-invalid'), 'true');
    await capField.fill('0.05');
    await cap.getByRole('button', { name: 'Set cap' }).click();
    await see(cap.getByRole('status').getByText('The monthly cap is now 0.05 EUR.'));
    await see(cap.getByText('Refused with 402: this month’s bill reached the cap'));
    const capped = await apiGet(`/api/subscriptions/${subscriptionId}/spend-cap`);
    assert.equal(capped.monthlyCap, '0.05');
    assert.equal(capped.reached, true);
    await checkState('spend-cap-reached');
    assert.deepEqual((await gatewayCalls(serviceId, tierClient, 1)).map((c) => c.status), [402]);
    await cap.getByRole('button', { name: 'Remove cap' }).click();
    await see(cap.getByRole('status').getByText('The monthly cap is removed.'));
    await see(cap.getByText('Admitted: no cap'));
    assert.equal((await apiGet(`/api/subscriptions/${subscriptionId}/spend-cap`)).monthlyCap, null);
    assert.deepEqual((await gatewayCalls(serviceId, tierClient, 1)).map((c) => c.status), [200]);

    // The provider's revenue of the month: the live subscription, and the test-mode one apart.
    await page.goto(`${platform.base}${made.tieredPath}`);
    await see(heading('Tiered walk'));
    const revenue = page.getByRole('region', { name: 'Revenue' });
    const apiRevenue = await apiGet(`/api/services/${serviceId}/revenue`);
    const liveTotal = (await apiGet(`/api/subscriptions/${subscriptionId}/invoices/${apiInvoice.month}`)).total;
    const testSubscription = apiRevenue.subscriptions.find((s) => s.testMode);
    const testTotal = (await apiGet(`/api/subscriptions/${testSubscription.subscriptionId}/invoices/${apiInvoice.month}`)).total;
    assert.equal(apiRevenue.total, liveTotal);
    assert.equal(apiRevenue.testModeTotal, testTotal);
    assert.equal(exact(testTotal), exact('0.02'), '3 calls: 1 free, 2 at 0.01');
    const live = revenue.getByRole('table', { name: 'Live subscriptions' });
    await see(live);
    const liveRow = await bodyRows(live).filter({ hasText: subscriptionId }).textContent();
    assert.ok(liveRow.includes(`${liveTotal} EUR`) && liveRow.includes('Tiered'), liveRow);
    assert.equal(apiRevenue.subscriptions.find((s) => s.subscriptionId === subscriptionId).pricingPlanName, 'Tiered');
    assert.ok((await totalRow(live).textContent()).includes(`${apiRevenue.total} EUR`));
    const test = revenue.getByRole('table', { name: 'Test-mode subscriptions' });
    assert.ok((await bodyRows(test).filter({ hasText: testSubscription.subscriptionId }).textContent()).includes(`${testTotal} EUR`));
    assert.ok((await totalRow(test).textContent()).includes(`${apiRevenue.testModeTotal} EUR`));
    assert.ok((await revenue.textContent()).includes(`Test mode (not billed)${apiRevenue.testModeTotal} EUR`));

    // Taken out of the marketplace, the service's subscribers still see
    // what they pay: the subscription carries its plan and service name.
    const lifecycleStatus = page.getByRole('status').filter({ hasText: 'Current state' });
    await page.getByRole('button', { name: 'Unpublish' }).click();
    await see(lifecycleStatus.getByText('Created (private)'));
    await page.goto(`${platform.base}${made.billingPath}`);
    await see(heading('Billing of Tiered walk'));
    await see(pricing.getByText(/First 2 call: 0\.01 EUR per call/));
    await see(pricing.getByText('At most 100 requests per minute.'));
    await page.goto(`${platform.base}${made.tieredPath}`);
    await see(heading('Tiered walk'));
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await see(lifecycleStatus.getByText('Published on the marketplace'));
  } finally {
    await tiered.stop();
  }
});

test('every page has no serious or critical accessibility violation, at 1280 and 390 px, with a screenshot each', async (t) => {
  t.diagnostic(`screenshots: ${SCREENSHOTS}`);
  const pages = [
    ['services', '/services', 'My services'],
    ['create-service', '/services/new', 'Create service'],
    ['service-external', made.servicePath, 'Quantum walk'],
    ['edit-service', `${made.servicePath}/edit`, 'Edit Quantum walk'],
    ['service-managed', made.managedPath, 'Sum on WASM'],
    ['applications', '/applications', 'Applications'],
    ['application', made.applicationPath, 'Walk client'],
    ['try-it-out', made.tryPath, 'Try it out: Quantum walk'],
    ['try-it-out-managed', made.tryManagedPath, 'Try it out: Sum on WASM'],
    ['marketplace', '/marketplace', 'Marketplace'],
    ['usage', '/usage', 'Usage'],
    ['access-tokens', '/access-tokens', 'Access tokens'],
    ['service-tiered', made.tieredPath, 'Tiered walk'],
    ['marketplace-tiered', `/marketplace/${made.tieredPath.split('/').pop()}`, 'Tiered walk'],
    ['billing', made.billingPath, 'Billing of Tiered walk'],
    ['invoice', made.invoicePath, 'Invoice'],
    ['call', made.callPath, 'Call POST /walk'],
    ['not-found', '/no/such/page', 'Page not found'],
  ];
  const results = made.axe ?? {};
  for (const [name, path, title] of pages) {
    await page.goto(`${platform.base}${path}`);
    await see(heading(title));
    await page.waitForLoadState('networkidle');
    results[name] = await screenshotAndAxe(page, name);
  }
  // A published service on the marketplace, and the signed-out page.
  await page.goto(`${platform.base}${made.servicePath}`);
  await see(heading('Quantum walk'));
  await page.getByRole('button', { name: 'Publish', exact: true }).click();
  await see(page.getByText('Published on the marketplace'));
  await page.goto(`${platform.base}/marketplace`);
  await page.getByRole('link', { name: 'Quantum walk' }).click();
  await see(heading('Quantum walk'));
  await page.waitForLoadState('networkidle');
  results['marketplace-service'] = await screenshotAndAxe(page, 'marketplace-service');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await see(heading('Welcome to qmarket'));
  results['sign-in'] = await screenshotAndAxe(page, 'sign-in');

  mkdirSync(SCREENSHOTS, { recursive: true });
  writeFileSync(join(SCREENSHOTS, 'axe.json'), JSON.stringify(results, null, 2));
  const blocking = [];
  for (const [name, perWidth] of Object.entries(results)) {
    for (const width of WIDTHS) {
      const violations = perWidth[width] ?? [];
      const line = violations.length ? violations.map((v) => `${v.id} (${v.impact}, ${v.nodes})`).join(', ') : 'none';
      t.diagnostic(`axe ${name} @${width}px: ${line}`);
      blocking.push(...violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${name}@${width}: ${v.id} — ${v.help}`));
    }
  }
  assert.deepEqual(blocking, []);
});

test('a deep link opened signed out leads there after signing in, and Try it out asks for a consumer secret this session does not know', async () => {
  // A new tab has a session storage of its own: signed out, then signed in
  // there, it knows no consumer secret.
  const tab = await browser.context.newPage();
  try {
    await tab.goto(`${platform.base}${made.tryPath}`);
    await see(tab.getByRole('heading', { level: 1, name: 'Welcome to qmarket' }));
    await tab.getByLabel('Personal access token', { exact: true }).fill(made.pat);
    await tab.getByRole('button', { name: 'Sign in' }).click();
    await see(tab.getByRole('heading', { level: 1, name: 'Try it out: Quantum walk' }));
    assert.equal(new URL(tab.url()).pathname, made.tryPath);
    const form = tab.getByRole('form', { name: 'Consumer secret needed' });
    await see(form);
    const axe = await screenshotAndAxe(tab, 'try-it-out-secret-needed');
    for (const width of WIDTHS) assert.deepEqual(axe[width].filter((v) => v.impact === 'serious' || v.impact === 'critical'), []);
    await form.getByLabel('Consumer secret', { exact: true }).fill(made.consumerSecret);
    await form.getByRole('button', { name: 'Use this secret' }).click();
    await tab.getByLabel('Path').fill('/walk');
    await tab.getByRole('button', { name: 'Send request' }).click();
    await see(tab.getByRole('region', { name: 'Response' }).getByLabel('Status', { exact: true }).getByText('200'));
  } finally {
    await tab.close();
  }
});

test('the console is usable by keyboard alone: focus starts at the heading, forms and the navigation work with keys', async () => {
  await page.goto(`${platform.base}/`);
  await see(heading('Welcome to qmarket'));
  assert.equal(await heading('Welcome to qmarket').evaluate((el) => el === document.activeElement), true);
  await see(page.getByRole('link', { name: 'Skip to content' }));
  // Sign in by keyboard: tab to the token field, type, press Enter.
  const field = page.getByLabel('Personal access token', { exact: true });
  for (let i = 0; i < 20 && !(await field.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
  await page.keyboard.type(made.pat);
  await page.keyboard.press('Enter');
  await see(heading('My services'));
  const usage = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Usage' });
  for (let i = 0; i < 20 && !(await usage.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  await see(heading('Usage'));
  assert.equal(await usage.getAttribute('aria-current'), 'page');
});
