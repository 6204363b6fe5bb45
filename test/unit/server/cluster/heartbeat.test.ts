import { test } from 'vitest';
import assert from 'node:assert/strict';
import { Heartbeat } from '../../../../server/cluster/heartbeat.ts';
import type { HealthView } from '../../../../server/http/backend.ts';

const silent = { info: () => undefined, warn: () => undefined };

function rig(status: 'ok' | 'degraded', method: 'GET' | 'POST', reachable = true, answer = 200) {
  const calls: { url: string; method: string; body: string | undefined }[] = [];
  const health: HealthView = { status, mqtt: 'up', influx: status === 'ok' ? 'up' : 'down', cluster: { instance: 'a', owned: 21, partitions: 64 } };
  const hb = new Heartbeat({
    url: 'https://hc.example/ping/abc', method, periodMs: 60_000, instanceId: 'a', log: silent,
    health: () => Promise.resolve(health),
    leasesReachable: () => reachable,
    fetch: (url, init) => {
      calls.push({ url: url as string, method: init?.method ?? 'GET', body: init?.body as string | undefined });
      return Promise.resolve(new Response('', { status: answer }));
    },
  });
  return { hb, calls };
}

test('a healthy instance calls the monitor: GET, or POST with a small JSON status', async () => {
  const get = rig('ok', 'GET');
  assert.equal(await get.hb.beat(), true);
  assert.deepEqual(get.calls, [{ url: 'https://hc.example/ping/abc', method: 'GET', body: undefined }]);
  const post = rig('ok', 'POST');
  assert.equal(await post.hb.beat(), true);
  assert.deepEqual(JSON.parse(post.calls[0]!.body!), { instance: 'a', status: 'ok', owned: 21 });
});

test('an unhealthy instance stays silent: degraded, or the lease table unreachable', async () => {
  const degraded = rig('degraded', 'GET');
  assert.equal(await degraded.hb.beat(), false);
  assert.equal(degraded.calls.length, 0);
  const cut = rig('ok', 'GET', false);
  assert.equal(await cut.hb.beat(), false);
  assert.equal(cut.calls.length, 0);
  assert.equal(cut.hb.skipped, 1);
});

test('a monitor answering an error is counted as failed', async () => {
  const r = rig('ok', 'GET', true, 503);
  assert.equal(await r.hb.beat(), false);
  assert.equal(r.hb.failed, 1);
});
