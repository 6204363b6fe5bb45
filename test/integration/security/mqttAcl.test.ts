/**
 * Broker accounts against real Mosquitto with the shipped configuration, password file and ACL
 * (deploy/mosquitto/), accounts made by the provision command's code, over TLS with the dev CA.
 */
import { describe, test, beforeAll, afterAll, afterEach } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IClientOptions, MqttClient } from 'mqtt';
import { connectOnce, startSecureMosquitto, type SecureBroker } from '../../helpers/secureMosquitto.ts';
import { waitFor } from '../../helpers/wait.ts';

const NOT_AUTHORIZED = 0x87;
const BAD_USER_OR_PASSWORD = 0x86;

describe('MQTT accounts and ACL (shipped config, real Mosquitto)', () => {
  let broker: SecureBroker;
  let ca: Buffer;
  const passwords = new Map<string, string>();
  const clients: MqttClient[] = [];

  const login = async (username: string, extra: IClientOptions = {}): Promise<MqttClient> => {
    const o = await connectOnce(broker.url, { ca, username, password: passwords.get(username), protocolVersion: 5, ...extra });
    if (!o.ok) throw new Error(`${username} could not connect: ${o.error.message}`);
    clients.push(o.client);
    return o.client;
  };
  /** topics the client receives, in order */
  const record = (c: MqttClient): string[] => {
    const got: string[] = [];
    c.on('message', (t) => got.push(t));
    return got;
  };

  beforeAll(async () => {
    broker = await startSecureMosquitto();
    ca = readFileSync(broker.caFile);
    for (const id of ['home-1', 'home-2']) passwords.set(id, await broker.addGateway(id));
    passwords.set('_server', await broker.addServer());
    passwords.set('_server-b', await broker.addServer('b'));
    await broker.reload();
  });

  // one username is one client id on this broker: close each test's clients before the next logs in
  afterEach(() => {
    for (const c of clients.splice(0)) c.end(true);
  });

  afterAll(async () => {
    await broker.dispose();
  });

  test('MQTT 5: a gateway publishing under another gateway\'s id gets PUBACK 0x87 and nothing is delivered', async () => {
    const server = await login('_server');
    const seen = record(server);
    await server.subscribeAsync(['pumpwatch/+/pumps/+', 'pumpwatch/+/availability', 'pumpwatch/+/diagnostics'], { qos: 1 });
    const gw = await login('home-1');
    await assert.rejects(gw.publishAsync('pumpwatch/home-2/pumps/PX', '{"forged":true}', { qos: 1 }),
      (e: Error & { code?: number }) => e.code === NOT_AUTHORIZED);
    await assert.rejects(gw.publishAsync('pumpwatch/home-2/availability', '{"state":"offline"}', { qos: 1, retain: true }),
      (e: Error & { code?: number }) => e.code === NOT_AUTHORIZED);
    // its own topics work: the positive control that bounds the wait below
    await gw.publishAsync('pumpwatch/home-1/pumps/P1', '{"own":true}', { qos: 1 });
    await waitFor(() => seen.includes('pumpwatch/home-1/pumps/P1'), 10_000, 'own publish to arrive');
    assert.deepEqual(seen.filter((t) => t.includes('home-2')), [], 'nothing forged reached the server');
  });

  test('MQTT 3.1.1: a forged publish is dropped (the privileged subscriber sees only the gateway\'s own)', async () => {
    const server = await login('_server', { protocolVersion: 4 });
    const seen = record(server);
    await server.subscribeAsync('pumpwatch/#', { qos: 1 });
    const gw = await login('home-2', { protocolVersion: 4 });
    await gw.publishAsync('pumpwatch/home-1/pumps/P1', '{"forged":true}', { qos: 1 });
    await gw.publishAsync('pumpwatch/home-1/diagnostics', '{"forged":true}', { qos: 1, retain: true });
    await gw.publishAsync('pumpwatch/home-2/pumps/P9', '{"own":true}', { qos: 1 });
    await waitFor(() => seen.includes('pumpwatch/home-2/pumps/P9'), 10_000, 'own publish to arrive');
    assert.deepEqual(seen, ['pumpwatch/home-2/pumps/P9']);
  });

  test('a gateway cannot read anything, not even its own or another home\'s pump data', async () => {
    const spy = await login('home-1');
    const spied = record(spy);
    await spy.subscribeAsync('pumpwatch/#', { qos: 1 });
    const server = await login('_server');
    const seen = record(server);
    await server.subscribeAsync('pumpwatch/+/pumps/+', { qos: 1 });
    const gw = await login('home-2');
    await gw.publishAsync('pumpwatch/home-2/pumps/P7', '{}', { qos: 1 });
    await spy.publishAsync('pumpwatch/home-1/pumps/P1', '{}', { qos: 1 });
    await waitFor(() => seen.includes('pumpwatch/home-2/pumps/P7') && seen.includes('pumpwatch/home-1/pumps/P1'), 10_000, 'both at the server');
    assert.deepEqual(spied, []);
  });

  test('the server reads pump, availability and diagnostics topics only, and cannot publish as a gateway', async () => {
    const server = await login('_server');
    const seen = record(server);
    await server.subscribeAsync('#', { qos: 1 });
    const gw = await login('home-1');
    await gw.publishAsync('pumpwatch/home-1/private/notes', 'x', { qos: 1 });
    await gw.publishAsync('pumpwatch/home-1/availability', '{"state":"online"}', { qos: 1, retain: true });
    await gw.publishAsync('pumpwatch/home-1/diagnostics', '{}', { qos: 1, retain: true });
    await gw.publishAsync('pumpwatch/home-1/pumps/P2', '{}', { qos: 1 });
    await waitFor(() => seen.includes('pumpwatch/home-1/pumps/P2'), 10_000, 'pump message at the server');
    assert.ok(seen.includes('pumpwatch/home-1/availability'));
    assert.ok(seen.includes('pumpwatch/home-1/diagnostics'));
    assert.ok(!seen.includes('pumpwatch/home-1/private/notes'), 'a topic the server does not need is not delivered');
    await assert.rejects(server.publishAsync('pumpwatch/home-1/pumps/P2', '{}', { qos: 1 }),
      (e: Error & { code?: number }) => e.code === NOT_AUTHORIZED);
    await assert.rejects(server.publishAsync('pumpwatch/home-1/availability', '{}', { qos: 1 }),
      (e: Error & { code?: number }) => e.code === NOT_AUTHORIZED);
  });

  test('server instances (one account each) read and write pumpwatch/_server/#; gateways cannot touch it', async () => {
    const a = await login('_server');
    const b = await login('_server-b');
    const seen = record(b);
    await b.subscribeAsync('pumpwatch/_server/#', { qos: 1 });
    const gw = await login('home-1');
    await assert.rejects(gw.publishAsync('pumpwatch/_server/alerts/forged', '{}', { qos: 1 }),
      (e: Error & { code?: number }) => e.code === NOT_AUTHORIZED);
    await a.publishAsync('pumpwatch/_server/alerts/a1', '{}', { qos: 1, retain: true });
    await waitFor(() => seen.includes('pumpwatch/_server/alerts/a1'), 10_000, 'server-to-server message');
    assert.deepEqual(seen, ['pumpwatch/_server/alerts/a1']);
  });

  test('a gateway connecting with the server\'s client id neither takes over its session nor knocks it off', async () => {
    // the broker replaces client ids by usernames (use_username_as_clientid)
    const server = await login('_server', { clientId: 'pumpwatch-server', clean: false });
    const seen = record(server);
    let serverClosed = false;
    server.on('close', () => { serverClosed = true; });
    await server.subscribeAsync('pumpwatch/+/pumps/+', { qos: 1 });
    for (const clientId of ['pumpwatch-server', '_server']) {
      const intruder = await login('home-1', { clientId, clean: false });
      const stolen = record(intruder);
      await intruder.publishAsync('pumpwatch/home-1/pumps/P5', `{"via":"${clientId}"}`, { qos: 1 });
      await waitFor(() => seen.filter((t) => t === 'pumpwatch/home-1/pumps/P5').length >= 1, 10_000, 'delivery to the server');
      assert.equal(serverClosed, false, `the server stays connected when a gateway uses client id ${clientId}`);
      assert.deepEqual(stolen, []);
      seen.length = 0;
      intruder.end(true);
    }
  });

  test('a wrong password, an unknown user and an anonymous client are refused (MQTT 5 and 3.1.1)', async () => {
    const refusedV5 = [BAD_USER_OR_PASSWORD, NOT_AUTHORIZED];
    const refusedV4 = [4, 5]; // bad user name or password, not authorized
    for (const [protocolVersion, codes] of [[5, refusedV5], [4, refusedV4]] as const) {
      for (const creds of [
        { username: 'home-1', password: 'not-the-password' },
        { username: 'home-1', password: `${passwords.get('home-2') ?? ''}` },
        { username: 'nobody', password: 'x' },
        {},
      ]) {
        const o = await connectOnce(broker.url, { ca, protocolVersion, ...creds });
        if (o.ok) o.client.end(true);
        assert.equal(o.ok, false, `v${protocolVersion} ${JSON.stringify(creds.username ?? 'anonymous')} must be refused`);
        if (!o.ok) assert.ok((codes as readonly number[]).includes(Number(o.error.code)), `CONNACK code ${String(o.error.code)}`);
      }
    }
  });

  test('revoke: after SIGHUP the gateway is disconnected and cannot log in again; other gateways are unaffected', async () => {
    const id = 'home-revoked';
    passwords.set(id, await broker.addGateway(id));
    await broker.reload();
    const doomed = await login(id);
    const closed = new Promise<void>((resolve) => doomed.once('close', () => resolve()));
    assert.equal(await broker.provision(['revoke', 'gateway', id]), 0);
    assert.ok(!readFileSync(broker.passwordFile, 'utf8').includes(`${id}:`));
    assert.ok(!readFileSync(broker.aclFile, 'utf8').includes(id));
    await broker.reload();
    await closed;
    const again = await connectOnce(broker.url, { ca, username: id, password: passwords.get(id), protocolVersion: 5 });
    if (again.ok) again.client.end(true);
    assert.equal(again.ok, false);
    if (!again.ok) assert.ok([BAD_USER_OR_PASSWORD, NOT_AUTHORIZED].includes(Number(again.error.code)));
    const other = await login('home-2');
    await other.publishAsync('pumpwatch/home-2/pumps/P1', '{}', { qos: 1 });
    assert.equal(await broker.provision(['revoke', 'gateway', id]), 2, 'revoking twice is bad input');
  });
});
