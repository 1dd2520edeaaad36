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

/** On the application's page shown now: subscribes it to the service `label` names. */
async function subscribe(label) {
  await page.getByRole('button', { name: 'Subscribe to service' }).click();
  await page.getByLabel('Service', { exact: true }).selectOption({ label });
  await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
}

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
