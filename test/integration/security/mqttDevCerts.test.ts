/** scripts/devCerts.ts with real openssl: valid chain and names, idempotent, regenerates what is stale. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { ensureDevCerts, ensureServerCertificate } from '../../../scripts/devCerts.ts';
import { startProcess } from '../../helpers/childProcess.ts';
import { tempDir } from '../../helpers/tempDir.ts';

const openssl = (args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8' });

test('dev CA and broker certificate: chain verifies, names 127.0.0.1 and localhost, keys private', () => {
  const dir = tempDir('pumpwatch-devcerts-');
  try {
    const c = ensureDevCerts(dir.path);
    assert.match(openssl(['verify', '-CAfile', c.caFile, c.brokerCertFile]), /: OK/);
    const san = openssl(['x509', '-in', c.brokerCertFile, '-noout', '-ext', 'subjectAltName']);
    assert.match(san, /IP Address:127\.0\.0\.1/);
    assert.match(san, /DNS:localhost/);
    assert.match(openssl(['x509', '-in', c.brokerCertFile, '-noout', '-ext', 'extendedKeyUsage']), /TLS Web Server Authentication/);
    assert.equal(statSync(c.brokerKeyFile).mode & 0o777, 0o600);
    assert.equal(statSync(c.caKeyFile).mode & 0o777, 0o600);
  } finally {
    dir.remove();
  }
});

test('idempotent: a second run keeps every file; a broken or foreign certificate is replaced', () => {
  const dir = tempDir('pumpwatch-devcerts-');
  try {
    const first = ensureDevCerts(dir.path);
    const pems = [first.caFile, first.brokerCertFile, first.brokerKeyFile].map((f) => readFileSync(f, 'utf8'));
    const second = ensureDevCerts(dir.path);
    assert.deepEqual(second, first);
    assert.deepEqual([second.caFile, second.brokerCertFile, second.brokerKeyFile].map((f) => readFileSync(f, 'utf8')), pems);
    // other host names: a new broker certificate under the same CA
    const other = ensureServerCertificate(dir.path, { certFile: first.caFile, keyFile: first.caKeyFile }, { name: 'broker', hosts: ['mqtt.example.org'] });
    assert.notEqual(readFileSync(other.certFile, 'utf8'), pems[1]);
    assert.equal(readFileSync(first.caFile, 'utf8'), pems[0], 'the CA stays');
    // a truncated certificate is remade
    writeFileSync(first.brokerCertFile, '-----BEGIN CERTIFICATE-----\nAAAA\n');
    const again = ensureDevCerts(dir.path);
    assert.match(openssl(['verify', '-CAfile', again.caFile, again.brokerCertFile]), /: OK/);
  } finally {
    dir.remove();
  }
});

test('command line: tsx scripts/devCerts.ts <dir> prints the paths; no dir is exit 2', async () => {
  const dir = tempDir('pumpwatch-devcerts-');
  try {
    const ok = startProcess('npx', ['tsx', 'scripts/devCerts.ts', dir.path]);
    assert.equal(await ok.exited, 0, ok.lines.join('\n'));
    const printed = JSON.parse(ok.lines.join('\n')) as { caFile: string };
    assert.equal(printed.caFile, `${dir.path}/pumpwatch-dev-ca.crt`);
    const bad = startProcess('npx', ['tsx', 'scripts/devCerts.ts']);
    assert.equal(await bad.exited, 2);
    assert.equal(bad.lines.length, 1);
  } finally {
    dir.remove();
  }
});
