/**
 * A local Web Push service for tests: HTTPS (a self-signed certificate for 127.0.0.1, made with
 * openssl) on a free port, one endpoint per subscribed "device" it creates. Each push is checked as
 * a real push service would (RFC 8292 VAPID: an ES256 JWT whose audience is this origin, signed by
 * the key in `k=`), then decrypted as the device would (RFC 8291/8188 aes128gcm: ECDH P-256 with
 * the device's key, HKDF-SHA-256, AES-128-GCM) with node:crypto only. A device can be told to
 * answer 410/404/500/429 instead of 201.
 */
import { execFileSync } from 'node:child_process';
import {
  createCipheriv, createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify, type ECDH,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, Agent, type Server } from 'node:https';
import { join } from 'node:path';
import { tempDir } from './tempDir.ts';

/** one push as the device got it */
export interface ReceivedPush {
  device: string;
  /** the decrypted payload */
  plaintext: string;
  headers: { ttl: string | undefined; urgency: string | undefined; topic: string | undefined; contentEncoding: string | undefined };
  /** JWT claims of the VAPID token */
  vapid: { aud: string; sub: string; exp: number; publicKey: string };
}

interface Device {
  ecdh: ECDH;
  auth: Buffer;
  /** answer with this status instead of 201 */
  status: number;
}

const hkdf = (ikm: Buffer, salt: Buffer, info: Buffer, length: number): Buffer => Buffer.from(hkdfSync('sha256', ikm, salt, info, length));

/** RFC 8291 §3.4 + RFC 8188 §2: one-record aes128gcm body → plaintext; throws when it does not authenticate */
export function decryptAes128gcm(body: Buffer, device: { ecdh: ECDH; auth: Buffer }): string {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20] ?? 0;
  const asPublic = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  if (idlen !== 65 || record.length > rs) throw new Error(`unexpected aes128gcm header (idlen ${idlen}, rs ${rs}, record ${record.length})`);
  const uaPublic = device.ecdh.getPublicKey();
  const ecdhSecret = device.ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = hkdf(ecdhSecret, device.auth, keyInfo, 32);
  const cek = hkdf(ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = hkdf(ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  // the last record ends with the delimiter 0x02, then zero padding
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('missing last-record delimiter');
  return padded.subarray(0, end).toString('utf8');
}

/** checks `Authorization: vapid t=<jwt>, k=<key>` (RFC 8292 §3); returns the claims */
export function checkVapid(authorization: string | undefined, origin: string): ReceivedPush['vapid'] {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!m) throw new Error(`no VAPID authorization: ${authorization ?? '(none)'}`);
  const [jwt, key] = [m[1] as string, m[2] as string];
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; typ: string };
  if (header.alg !== 'ES256') throw new Error(`VAPID alg ${header.alg}`);
  const point = Buffer.from(key, 'base64url');
  const publicKey = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') },
    format: 'jwk',
  });
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  if (!ok) throw new Error('VAPID signature does not verify');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud: string; sub: string; exp: number };
  if (claims.aud !== origin) throw new Error(`VAPID audience ${claims.aud}, expected ${origin}`);
  const now = Date.now() / 1000;
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600)) throw new Error(`VAPID exp ${claims.exp} out of range`);
  return { ...claims, publicKey: key };
}

/** a payload encrypted as a sender would (for checking the decryption against itself in a unit test) */
export function encryptAes128gcm(plaintext: string, uaPublic: Buffer, auth: Buffer): Buffer {
  const as = createECDH('prime256v1');
  as.generateKeys();
  const salt = randomBytes(16);
  const ecdhSecret = as.computeSecret(uaPublic);
  const ikm = hkdf(ecdhSecret, auth, Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, as.getPublicKey()]), 32);
  const cek = hkdf(ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = hkdf(ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12);
  const cipher = createCipheriv('aes-128-gcm', cek, nonce);
  const body = Buffer.concat([cipher.update(Buffer.concat([Buffer.from(plaintext), Buffer.from([2])])), cipher.final(), cipher.getAuthTag()]);
  const header = Buffer.alloc(21);
  salt.copy(header, 0);
  header.writeUInt32BE(4096, 16);
  header[20] = 65;
  return Buffer.concat([header, as.getPublicKey(), body]);
}

export class LocalPushService {
  readonly received: ReceivedPush[] = [];
  /** requests refused as a real service would refuse them (bad VAPID, undecryptable) */
  readonly refused: string[] = [];
  /** trusts this service's certificate: give it to the push channel */
  agent!: Agent;
  port = 0;
  private server: Server | null = null;
  private readonly devices = new Map<string, Device>();
  private seq = 0;

  get origin(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const dir = tempDir('pumpwatch-push-service-');
    const key = join(dir.path, 'key.pem');
    const cert = join(dir.path, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const tls = { key: readFileSync(key), cert: readFileSync(cert) };
    dir.remove();
    this.agent = new Agent({ ca: tls.cert, keepAlive: false });
    const server = createServer(tls, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const id = /^\/push\/([a-z0-9-]+)$/.exec(req.url ?? '')?.[1];
        const device = id ? this.devices.get(id) : undefined;
        if (req.method !== 'POST' || !id || !device) {
          res.writeHead(404).end();
          return;
        }
        if (device.status !== 201) {
          res.writeHead(device.status).end();
          return;
        }
        try {
          const vapid = checkVapid(req.headers.authorization, this.origin);
          if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`content-encoding ${String(req.headers['content-encoding'])}`);
          const plaintext = decryptAes128gcm(Buffer.concat(chunks), device);
          const h = (name: string): string | undefined => (typeof req.headers[name] === 'string' ? req.headers[name] : undefined);
          this.received.push({ device: id, plaintext, vapid, headers: { ttl: h('ttl'), urgency: h('urgency'), topic: h('topic'), contentEncoding: h('content-encoding') } });
          res.writeHead(201, { location: `${this.origin}/message/${++this.seq}` }).end();
        } catch (err) {
          this.refused.push((err as Error).message);
          res.writeHead(400).end((err as Error).message);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** a new device: its PushSubscription JSON, as the browser would POST it */
  subscribe(name: string): { endpoint: string; keys: { p256dh: string; auth: string } } {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    this.devices.set(name, { ecdh, auth, status: 201 });
    return { endpoint: `${this.origin}/push/${name}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
  }

  /** the device's push service answers `status` from now on (410: unsubscribed, 500: failing) */
  answer(name: string, status: number): void {
    const d = this.devices.get(name);
    if (d) d.status = status;
  }

  async stop(): Promise<void> {
    this.agent?.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
