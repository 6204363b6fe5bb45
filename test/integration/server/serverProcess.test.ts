import { test } from 'vitest';
import assert from 'node:assert/strict';
import { startNpmScript } from '../../helpers/childProcess.ts';
import { waitFor } from '../../helpers/wait.ts';
import { capturePayloads, publishAll, publisher, serverNodePid, startStack, storedCount } from './serverStack.ts';

test('a bad configuration value exits 2 with one clear line', async () => {
  const p = startNpmScript('server', [], { env: { PORT: 'eighty', PUMPWATCH_JOURNAL_DIR: '/nonexistent/never-created' } });
  const code = await p.exited;
  assert.equal(code, 2);
  const text = p.lines.filter((l) => l.trim() !== '');
  assert.deepEqual(text, ['pumpwatch server: PORT must be a whole number, got "eighty"']);
});

test('SIGTERM stops ingest, writes what it holds and exits 0; the next start has nothing to replay', async () => {
  const stack = await startStack();
  try {
    const server = await stack.startServer({ INFLUX_FLUSH_MS: '5000', CHECKPOINT_MS: '60000' });
    const payloads = capturePayloads('folfox-46h-normal.log').slice(0, 500);
    const pub = await publisher(stack.broker.url, 'sigterm-pub');
    await publishAll(pub, 'gw-1', payloads);
    await pub.endAsync();
    const pid = serverNodePid(server); // the node process under npm
    assert.ok(pid);
    process.kill(pid, 'SIGTERM');
    assert.equal(await server.exited, 0);
    assert.ok(server.lines.some((l) => l.includes('"msg":"stopped"')));
    assert.equal(await storedCount(stack.influx), payloads.length, 'flushed before exit');
    const again = await stack.startServer();
    await again.waitForLine(/state rebuilt from storage/);
    assert.ok(!again.lines.some((l) => l.includes('journal replayed')), 'everything was acknowledged at shutdown');
    await waitFor(async () => (await stack.api<{ pump: string }[]>('/api/pumps')).length === 1, 10_000, 'the pump restored');
  } finally {
    await stack.dispose();
  }
});
