/**
 * The real gateway process (`npm run gateway -- ... --mqtts ... --ca`) against real Mosquitto with
 * the shipped TLS config: it refuses a broker with the wrong certificate (nothing published, the
 * TLS error logged, retrying without crashing) and, with the same queue, publishes everything to
 * the broker whose certificate the CA vouches for.
 */
import { describe, test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import mqtt, { type IClientOptions } from 'mqtt';
import { ensureCa, ensureServerCertificate } from '../../../scripts/devCerts.ts';
import { startPump, sendLines, stopGateway } from '../gateway/gatewayHarness.ts';
import { startNpmScript, type RunningProcess } from '../../helpers/childProcess.ts';
import { startSecureMosquitto, type SecureBroker } from '../../helpers/secureMosquitto.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';
import { waitFor } from '../../helpers/wait.ts';

const CAPTURE = new URL('../../fixtures/captures/folfox-46h-normal.log', import.meta.url);
const LINES = readFileSync(CAPTURE, 'utf8').split('\n').filter((l) => l.startsWith('$')).slice(0, 20);
const GATEWAY = 'home-tls';

/** `npm run gateway` as provisioned: credentials in the environment, the CA by --ca */
function startTlsGateway(o: { serial: string; url: string; ca: string; queueDir: string; password: string }): RunningProcess {
  return startNpmScript('gateway', ['--id', GATEWAY, '--serial', o.serial, '--mqtt', o.url, '--ca', o.ca, '--queue-dir', o.queueDir, '--shutdown-s', '1'], {
    env: { MQTT_USERNAME: GATEWAY, MQTT_PASSWORD: o.password },
  });
}

describe('real gateway over TLS', () => {
  let tmp: TempDir;
  let good: SecureBroker;
  const bad: { name: string; broker: SecureBroker; observerCa: Buffer; gwPw: string; serverPw: string }[] = [];
  let goodGwPw = '';
  let goodServerPw = '';

  beforeAll(async () => {
    tmp = tempDir('pumpwatch-gw-tls-');
    const devDir = join(tmp.path, 'dev');
    good = await startSecureMosquitto({ certsDir: devDir });
    const foreign = ensureCa(join(tmp.path, 'foreign'), 'foreign-ca');
    const devCa = { certFile: good.certs.caFile, keyFile: good.certs.caKeyFile };
    const otherCa = await startSecureMosquitto({ certsDir: devDir, brokerCert: ensureServerCertificate(join(tmp.path, 'foreign'), foreign) });
    const wrongHost = await startSecureMosquitto({ certsDir: devDir, brokerCert: ensureServerCertificate(join(tmp.path, 'elsewhere'), devCa, { hosts: ['broker.elsewhere.invalid'] }) });
    bad.push({ name: 'certificate from another CA', broker: otherCa, observerCa: readFileSync(foreign.certFile), gwPw: '', serverPw: '' });
    bad.push({ name: 'certificate for another host name', broker: wrongHost, observerCa: readFileSync(good.caFile), gwPw: '', serverPw: '' });
    for (const b of bad) {
      b.gwPw = await b.broker.addGateway(GATEWAY);
      b.serverPw = await b.broker.addServer();
      await b.broker.reload();
    }
    goodGwPw = await good.addGateway(GATEWAY);
    goodServerPw = await good.addServer();
    await good.reload();
  });

  afterAll(async () => {
    await Promise.all([good?.dispose(), ...bad.map((b) => b.broker.dispose())]);
    tmp?.remove();
  });

  for (const which of [0, 1]) {
    test(`refuses a broker with a ${['certificate from another CA', 'certificate for another host name'][which] ?? ''}, then publishes everything with the right one`, async () => {
      const b = bad[which];
      assert.ok(b);
      const dir = tempDir('pumpwatch-gw-tls-run-');
      const queueDir = join(dir.path, 'queue');
      const { pty, pump } = await startPump(dir.path, 'pump');
      // the observer trusts the bad broker's certificate, whatever name it carries
      const observerOpts: IClientOptions & Pick<ConnectionOptions, 'checkServerIdentity'> = {
        ca: b.observerCa, checkServerIdentity: () => undefined, username: '_server', password: b.serverPw, reconnectPeriod: 0,
      };
      const badObserver = await mqtt.connectAsync(b.broker.url, observerOpts);
      const badSeen: string[] = [];
      badObserver.on('message', (t) => badSeen.push(t));
      await badObserver.subscribeAsync(['pumpwatch/+/pumps/+', 'pumpwatch/+/availability'], { qos: 1 });
      const logStart = b.broker.log.length;
      let gw = startTlsGateway({ serial: pty.gatewayPath, url: b.broker.url, ca: good.caFile, queueDir, password: b.gwPw });
      try {
        // lines written before the gateway holds the port would be lost on the wire
        await gw.waitForLine(/"event":"link_up"/, 30_000);
        await sendLines(pump, LINES);
        // each attempt: a TCP connection whose TLS handshake the gateway abandons
        const refusals = (): number => b.broker.log.slice(logStart).filter((l) => /New connection from 127\.0\.0\.1/.test(l)).length;
        await waitFor(() => refusals() >= 3, 30_000, 'three refused TLS handshakes from the gateway', 100);
        assert.equal(gw.child.exitCode, null, 'the gateway keeps running');
        assert.deepEqual(b.broker.log.filter((l) => l.includes(`u'${GATEWAY}'`)), [], 'it never logged in');
        assert.deepEqual(badSeen, [], 'nothing was published');
        const logged = await gw.waitForLine(/"event":"broker_error"/, 10_000);
        assert.match(logged, /certificate|altnames|CERT_|self.signed/i, 'the log says why: the broker\'s certificate');
        await stopGateway(gw);

        // the same queue towards the broker the CA vouches for: every sentence arrives
        const observer = await mqtt.connectAsync(good.url, { ca: readFileSync(good.caFile), username: '_server', password: goodServerPw, reconnectPeriod: 0 });
        const seen = new Set<string>();
        observer.on('message', (t, m) => { if (t.includes('/pumps/')) seen.add(m.toString()); });
        await observer.subscribeAsync(`pumpwatch/${GATEWAY}/pumps/+`, { qos: 1 });
        gw = startTlsGateway({ serial: pty.gatewayPath, url: good.url, ca: good.caFile, queueDir, password: goodGwPw });
        try {
          await waitFor(() => seen.size >= LINES.length, 60_000, `${LINES.length} sentences at the good broker (have ${seen.size})`, 100);
        } finally {
          await observer.endAsync();
        }
      } finally {
        await stopGateway(gw);
        await badObserver.endAsync();
        await pump.close();
        await pty.stop();
        dir.remove();
      }
    });
  }
});
