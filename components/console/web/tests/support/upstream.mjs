// The provider's external service of the tutorial, as the seed's FastAPI
// sample does it: every call it receives is metered with the call's
// x-correlation-id (POST /qc-catalog/external-services/metering with
// X-Auth-Token), then answered. Its access token and product id are set once
// the tutorial has made them, as the sample takes them from its environment.
import { createServer } from 'node:http';

/** Starts the service on a free loopback port, metering to `platform`. */
export async function startUpstream(platform, { username, password }) {
  const config = { accessToken: null, productId: null };
  const calls = [];
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const correlationId = req.headers['x-correlation-id'] ?? null;
    const answer = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== expected) return answer(401, { error: 'wrong credentials' });
    calls.push({ method: req.method, url: req.url, correlationId, body: Buffer.concat(chunks).toString() });
    const metered = await fetch(`${platform}/qc-catalog/external-services/metering`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Auth-Token': config.accessToken ?? '' },
      body: JSON.stringify({ correlationId, productId: config.productId, count: 1 }),
    });
    if (!metered.ok) return answer(500, { error: 'metering failed', status: metered.status, detail: await metered.text() });
    answer(200, { walked: true, path: req.url, correlationId });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/api`,
    config,
    calls,
    stop: () => new Promise((r) => server.close(r)),
  };
}
