/**
 * `npm run provision -- gateway <id> | revoke gateway <id> | server | revoke server | list`
 * Manages broker accounts in Mosquitto's password file and ACL (deploy/mosquitto/) and prints each
 * client's configuration. Exit codes: 0 done, 1 files or tools failed, 2 bad input.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  accountKind, accountNames, gatewayAccount, hasAccount, removeAccount, serverAccount, serverUsername, upsertAccount,
  type AclAccount,
} from './provisionAcl.ts';
import { USAGE, UsageError, parseProvisionArgs, type ProvisionOptions } from './provisionArgs.ts';
import {
  ProvisionError, aclFile, lockFiles, mosquittoPasswordFile, randomPassword, writeSecretFile, type AclStore, type PasswordStore,
} from './provisionFiles.ts';

export interface ProvisionDeps {
  passwords(file: string): PasswordStore;
  acl(file: string): AclStore;
  newPassword(): string;
  writeSecret(file: string, text: string): void;
  /** exclusive lock over the password and ACL files while they change; returns the release */
  lock(aclFile: string): () => void;
  /** ISO time written next to each account in the ACL */
  now(): Date;
  hostname: string;
  out(text: string): void;
  err(text: string): void;
}

export const realDeps: ProvisionDeps = {
  passwords: (file) => mosquittoPasswordFile(file),
  acl: (file) => aclFile(file),
  newPassword: randomPassword,
  writeSecret: writeSecretFile,
  lock: lockFiles,
  now: () => new Date(),
  hostname: hostname(),
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

const RELOAD_HINT = 'Reload the broker to apply: systemctl reload mosquitto  (or: kill -HUP $(cat /run/mosquitto/mosquitto.pid))';

function gatewayEnv(o: ProvisionOptions, id: string, password: string): string {
  return [
    `# pumpwatch gateway ${id}: /etc/pumpwatch/gateway.env on the home's gateway (mode 0600)`,
    `MQTT_USERNAME=${id}`,
    `MQTT_PASSWORD=${password}`,
    `MQTT_CA_FILE=${o.caFile}`,
    `PUMPWATCH_GATEWAY_ID=${id}`,
    `PUMPWATCH_MQTT_URL=${o.mqttUrl}`,
    'PUMPWATCH_SERIAL_ARGS=--serial /dev/ttyUSB0',
    'PUMPWATCH_QUEUE_DIR=/var/lib/pumpwatch/queue',
  ].join('\n') + '\n';
}

function serverEnv(o: ProvisionOptions, username: string, password: string): string {
  return [
    '# pumpwatch server broker account: add to /etc/pumpwatch/server.env (mode 0600)',
    `MQTT_URL=${o.mqttUrl}`,
    `MQTT_USERNAME=${username}`,
    '# the broker uses the username as client id (persistent session), whatever MQTT_CLIENT_ID says',
    `MQTT_CLIENT_ID=${username}`,
    `MQTT_PASSWORD=${password}`,
    `MQTT_CA_FILE=${o.caFile}`,
  ].join('\n') + '\n';
}

async function addAccount(o: ProvisionOptions, deps: ProvisionDeps, account: AclAccount): Promise<string> {
  const acl = deps.acl(o.aclFile);
  const text = acl.read();
  const kind = accountKind(text, account.username);
  if (hasAccount(text, account.username) && kind !== account.kind) {
    throw new UsageError(`username "${account.username}" is already used by ${kind ? `a ${kind}` : 'a hand-written'} account in ${o.aclFile}`);
  }
  const password = deps.newPassword();
  // password first: an ACL entry without a password grants nothing, the reverse would
  await deps.passwords(o.passwordFile).set(account.username, password);
  acl.write(upsertAccount(text, account, `provisioned ${deps.now().toISOString()}`));
  return password;
}

async function revokeAccount(o: ProvisionOptions, deps: ProvisionDeps, username: string, kind: 'gateway' | 'server'): Promise<void> {
  const acl = deps.acl(o.aclFile);
  const passwords = deps.passwords(o.passwordFile);
  const text = acl.read();
  const inAcl = hasAccount(text, username);
  if (inAcl && accountKind(text, username) !== kind) throw new UsageError(`"${username}" in ${o.aclFile} is not a ${kind} account`);
  if (!inAcl && !passwords.has(username)) throw new UsageError(`no ${kind} account "${username}" in ${o.passwordFile} or ${o.aclFile}`);
  // password first: without it the account cannot log in, whatever the ACL says
  await passwords.remove(username);
  if (inAcl) acl.write(removeAccount(text, username));
}

function printClientConfig(o: ProvisionOptions, deps: ProvisionDeps, env: string, commandLine: string | null): void {
  if (o.envOut) {
    deps.writeSecret(o.envOut, env);
    deps.out(`Environment file written to ${o.envOut} (mode 0600); copy it to the client, then delete it here.\n`);
  } else {
    deps.out(`\n${env}`);
  }
  if (commandLine) deps.out(`\n# command line, with MQTT_USERNAME and MQTT_PASSWORD above in its environment\n# (or deploy/systemd/pumpwatch-gateway.service with the file above):\n${commandLine}\n`);
  deps.out(`\n${RELOAD_HINT}\n`);
}

async function execute(o: ProvisionOptions, deps: ProvisionDeps): Promise<void> {
  const c = o.command;
  switch (c.action) {
    case 'help':
      deps.out(`${USAGE}\n`);
      return;
    case 'list': {
      const text = deps.acl(o.aclFile).read();
      for (const name of accountNames(text)) deps.out(`${accountKind(text, name) ?? 'other'}\t${name}\n`);
      return;
    }
    case 'add-gateway': {
      const password = await addAccount(o, deps, gatewayAccount(c.gatewayId));
      deps.out(`Gateway ${c.gatewayId}: account written to ${o.passwordFile} and ${o.aclFile}; it may publish only under pumpwatch/${c.gatewayId}/#.\n`);
      const cmd = `npm run gateway -- --id ${c.gatewayId} --serial /dev/ttyUSB0 --mqtt ${o.mqttUrl} --ca ${o.caFile} --queue-dir /var/lib/pumpwatch/queue`;
      printClientConfig(o, deps, gatewayEnv(o, c.gatewayId, password), cmd);
      return;
    }
    case 'revoke-gateway':
      await revokeAccount(o, deps, c.gatewayId, 'gateway');
      deps.out(`Gateway ${c.gatewayId}: removed from ${o.passwordFile} and ${o.aclFile}.\n${RELOAD_HINT}\n`);
      return;
    case 'add-server': {
      const account = serverAccount(c.instance);
      const password = await addAccount(o, deps, account);
      deps.out(`Server account ${account.username}: written to ${o.passwordFile} and ${o.aclFile}.\n`);
      printClientConfig(o, deps, serverEnv(o, account.username, password), null);
      return;
    }
    case 'revoke-server': {
      const username = serverUsername(c.instance);
      await revokeAccount(o, deps, username, 'server');
      deps.out(`Server account ${username}: removed.\n${RELOAD_HINT}\n`);
      return;
    }
  }
}

/** Runs one provision command; returns the exit code. Errors are reported on one line. */
export async function runProvision(argv: readonly string[], env: NodeJS.ProcessEnv, deps: ProvisionDeps = realDeps): Promise<number> {
  try {
    const options = parseProvisionArgs(argv, env, deps.hostname);
    const changes = options.command.action !== 'help' && options.command.action !== 'list';
    const release = changes ? deps.lock(options.aclFile) : null;
    try {
      await execute(options, deps);
    } finally {
      release?.();
    }
    return 0;
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    deps.err(`provision: ${message}\n`);
    if (err instanceof UsageError) return 2;
    if (err instanceof ProvisionError) return 1;
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await runProvision(process.argv.slice(2), process.env);
}
