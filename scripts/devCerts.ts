/**
 * Development TLS material made with openssl: a dev CA and a broker certificate for
 * 127.0.0.1/localhost. Used by the demo and the tests; never for a real deployment (docs/deploy.md).
 *
 *   tsx scripts/devCerts.ts <outDir> [--host <name-or-ip> ...]
 *
 * Idempotent: files that exist, verify against the CA and stay valid for another day are kept.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface CertificateAuthority {
  certFile: string;
  keyFile: string;
}

export interface ServerCertificate {
  certFile: string;
  keyFile: string;
  /** DNS names and IP addresses in subjectAltName */
  hosts: readonly string[];
}

export interface DevCerts {
  dir: string;
  /** what clients pass as their CA file (gateway `--ca`, MQTT_CA_FILE) */
  caFile: string;
  caKeyFile: string;
  brokerCertFile: string;
  brokerKeyFile: string;
}

export const DEFAULT_BROKER_HOSTS: readonly string[] = ['127.0.0.1', 'localhost'];
/** days */
const CA_VALIDITY_DAYS = 825;
/** days (the longest validity clients accept for a leaf) */
const LEAF_VALIDITY_DAYS = 397;
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function opensslOk(args: string[]): boolean {
  try {
    openssl(args);
    return true;
  } catch {
    return false;
  }
}

/** still valid for at least a day */
function fresh(certFile: string): boolean {
  return opensslOk(['x509', '-in', certFile, '-noout', '-checkend', '86400']);
}

function keyMatches(certFile: string, keyFile: string): boolean {
  try {
    const fromCert = openssl(['x509', '-in', certFile, '-noout', '-pubkey']);
    const fromKey = openssl(['pkey', '-in', keyFile, '-pubout']);
    return fromCert === fromKey;
  } catch {
    return false;
  }
}

/** writes next to the target then renames, so a reader never sees half a file */
function publish(tmpFile: string, finalFile: string, mode: number): void {
  chmodSync(tmpFile, mode);
  renameSync(tmpFile, finalFile);
}

/** A self-signed CA in `dir` (`<name>.crt`, `<name>.key`), created unless a valid one is there. */
export function ensureCa(dir: string, name = 'pumpwatch-dev-ca'): CertificateAuthority {
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  if (existsSync(certFile) && existsSync(keyFile) && fresh(certFile) && keyMatches(certFile, keyFile)) {
    return { certFile, keyFile };
  }
  const tag = randomBytes(4).toString('hex');
  const tmpCert = `${certFile}.${tag}.tmp`;
  const tmpKey = `${keyFile}.${tag}.tmp`;
  openssl(['req', '-x509', ...EC_KEY, '-keyout', tmpKey, '-out', tmpCert, '-days', String(CA_VALIDITY_DAYS),
    '-subj', `/O=pumpwatch development/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  publish(tmpKey, keyFile, 0o600);
  publish(tmpCert, certFile, 0o644);
  return { certFile, keyFile };
}

function subjectAltName(hosts: readonly string[]): string {
  return hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
}

function sameHosts(certFile: string, hosts: readonly string[]): boolean {
  try {
    const text = openssl(['x509', '-in', certFile, '-noout', '-ext', 'subjectAltName']);
    const found = [...text.matchAll(/(?:DNS:|IP Address:)([^,\s]+)/g)].map((m) => m[1] ?? '').sort();
    return JSON.stringify(found) === JSON.stringify([...hosts].sort());
  } catch {
    return false;
  }
}

/**
 * A server certificate `<name>.crt`/`<name>.key` in `dir` signed by `ca`, for `hosts` (DNS names
 * or IPs). Kept when it exists, verifies against `ca`, names the same hosts and stays valid.
 */
export function ensureServerCertificate(
  dir: string, ca: CertificateAuthority, opts: { name?: string; hosts?: readonly string[] } = {},
): ServerCertificate {
  const name = opts.name ?? 'broker';
  const hosts = opts.hosts ?? DEFAULT_BROKER_HOSTS;
  if (hosts.length === 0) throw new Error('a server certificate needs at least one host');
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  if (existsSync(certFile) && existsSync(keyFile) && fresh(certFile) && keyMatches(certFile, keyFile)
    && opensslOk(['verify', '-CAfile', ca.certFile, certFile]) && sameHosts(certFile, hosts)) {
    return { certFile, keyFile, hosts };
  }
  const tag = randomBytes(4).toString('hex');
  const tmpKey = `${keyFile}.${tag}.tmp`;
  const tmpCsr = join(dir, `${name}.${tag}.csr`);
  const tmpExt = join(dir, `${name}.${tag}.ext`);
  const tmpCert = `${certFile}.${tag}.tmp`;
  try {
    writeFileSync(tmpExt, [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${subjectAltName(hosts)}`,
    ].join('\n') + '\n');
    openssl(['req', '-new', ...EC_KEY, '-keyout', tmpKey, '-out', tmpCsr, '-subj', `/O=pumpwatch development/CN=${hosts[0] ?? name}`]);
    openssl(['x509', '-req', '-in', tmpCsr, '-CA', ca.certFile, '-CAkey', ca.keyFile,
      '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-days', String(LEAF_VALIDITY_DAYS),
      '-extfile', tmpExt, '-out', tmpCert]);
    publish(tmpKey, keyFile, 0o600);
    publish(tmpCert, certFile, 0o644);
  } finally {
    for (const f of [tmpCsr, tmpExt, tmpKey, tmpCert]) rmSync(f, { force: true });
  }
  return { certFile, keyFile, hosts };
}

/** The dev CA plus a broker certificate for `hosts` (default 127.0.0.1 and localhost) in `outDir`. */
export function ensureDevCerts(outDir: string, hosts: readonly string[] = DEFAULT_BROKER_HOSTS): DevCerts {
  const dir = resolve(outDir);
  const ca = ensureCa(dir);
  const broker = ensureServerCertificate(dir, ca, { name: 'broker', hosts });
  return { dir, caFile: ca.certFile, caKeyFile: ca.keyFile, brokerCertFile: broker.certFile, brokerKeyFile: broker.keyFile };
}

function main(argv: string[]): void {
  const hosts: string[] = [];
  let outDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--host') {
      const h = argv[++i];
      if (!h) throw new Error('--host needs a value');
      hosts.push(h);
    } else if (a && !a.startsWith('-') && outDir === undefined) {
      outDir = a;
    } else {
      throw new Error(`unexpected argument: ${a ?? ''}`);
    }
  }
  if (!outDir) throw new Error('usage: tsx scripts/devCerts.ts <outDir> [--host <name-or-ip> ...]');
  const certs = ensureDevCerts(outDir, hosts.length > 0 ? hosts : DEFAULT_BROKER_HOSTS);
  process.stdout.write(`${JSON.stringify(certs, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`devCerts: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
    process.exit(2);
  }
}
