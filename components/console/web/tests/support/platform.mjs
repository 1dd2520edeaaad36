// Starts the platform (`qmarket up` on a free loopback port, a fresh state
// directory) and a worker for its managed services, as separate processes
// this test run owns and stops.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository's root. */
export const REPO = resolve(import.meta.dirname, '../../../../..');
/** The `qmarket` binary (cargo builds it; QMARKET_BIN overrides). */
const BIN = process.env.QMARKET_BIN ?? join(REPO, 'target/debug/qmarket');

function collect(child, into) {
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => into.push(chunk));
}

/** Resolves with the first match of `pattern` in the child's stderr. */
function waitFor(child, log, pattern, what) {
  return new Promise((resolvePromise, reject) => {
    const check = () => {
      const m = log.join('').match(pattern);
      if (m) {
        child.stderr.off('data', check);
        child.off('exit', exited);
        resolvePromise(m);
      }
    };
    const exited = (code) => reject(new Error(`${what} exited (${code}) before it was ready:\n${log.join('')}`));
    child.stderr.on('data', check);
    child.once('exit', exited);
    check();
  });
}

/** The platform and one worker; `stop()` ends both and removes their state. */
export async function startPlatform() {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build it with cargo build -p qmarket`);
  const state = mkdtempSync(join(tmpdir(), 'qmarket-console-'));
  const workerToken = `qmw-${randomBytes(24).toString('hex')}`;
  const env = { ...process.env, SPIN_VARIABLE_WORKER_TOKEN: workerToken };
  const hostLog = [];
  const host = spawn(
    BIN,
    ['up', '--listen', '127.0.0.1:0', '--from', join(REPO, 'spin.toml'), '--state-dir', join(state, 'host')],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  collect(host, hostLog);
  const [, base] = await waitFor(host, hostLog, /Serving (http:\/\/\S+)/, 'qmarket up');

  const workerLog = [];
  const worker = spawn(
    BIN,
    ['worker', '--platform', base, '--name', 'console-tests', '--poll-ms', '100', '--work-dir', join(state, 'worker')],
    { env: { ...process.env, QMARKET_WORKER_TOKEN: workerToken }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  collect(worker, workerLog);

  return {
    base,
    logs: () => ({ host: hostLog.join(''), worker: workerLog.join('') }),
    async stop() {
      for (const child of [worker, host]) {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        }
      }
      rmSync(state, { recursive: true, force: true });
    },
  };
}
