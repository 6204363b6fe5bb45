/**
 * `npm run vapid-keys`: a new VAPID key pair for Web Push (docs/push.md), printed as the two lines
 * to put in the server's configuration. Browsers subscribe with the public key; changing the pair
 * later invalidates every device's subscription, so generate it once per deployment.
 */
import webPush from 'web-push';

const { publicKey, privateKey } = webPush.generateVAPIDKeys();
process.stdout.write(
  '# Web Push keys for pumpwatch: put these in the server configuration (keep the private key secret)\n'
  + `VAPID_PUBLIC_KEY=${publicKey}\n`
  + `VAPID_PRIVATE_KEY=${privateKey}\n`
  + '# and VAPID_SUBJECT=mailto:<operator address> (or https:) unless PUBLIC_URL is https:\n',
);
