/** Command line and environment of `npm run provision`, validated once and frozen. */
import { isValidGatewayId } from '../../protocol/topics.ts';

export type ProvisionCommand =
  | { action: 'add-gateway'; gatewayId: string }
  | { action: 'revoke-gateway'; gatewayId: string }
  | { action: 'add-server'; instance: string | null }
  | { action: 'revoke-server'; instance: string | null }
  | { action: 'list' }
  | { action: 'help' };

export interface ProvisionOptions {
  command: ProvisionCommand;
  /** Mosquitto password_file */
  passwordFile: string;
  /** Mosquitto acl_file */
  aclFile: string;
  /** the broker's address as the clients will use it (printed into their configuration) */
  mqttUrl: string;
  /** where the CA certificate lives on the client machine (printed into its configuration) */
  caFile: string;
  /** write the client's environment file here (mode 0600) instead of printing the password */
  envOut: string | null;
}

export const DEFAULT_PASSWORD_FILE = '/etc/mosquitto/pumpwatch.passwd';
export const DEFAULT_ACL_FILE = '/etc/mosquitto/pumpwatch.acl';
export const DEFAULT_CA_FILE = '/etc/pumpwatch/ca.crt';

export const USAGE = `usage: npm run provision -- <command> [options]
commands:
  gateway <id>           create (or rotate) a gateway's broker account; prints its configuration
  revoke gateway <id>    remove a gateway's account from the password file and the ACL
  server [<instance>]    create (or rotate) the server's broker account (_server, or _server-<instance>
                         for each further instance: the broker uses usernames as client ids)
  revoke server [<instance>]  remove a server account
  list                   accounts in the ACL
options (environment variable, default):
  --passwd-file <file>   PUMPWATCH_MQTT_PASSWORD_FILE, ${DEFAULT_PASSWORD_FILE}
  --acl-file <file>      PUMPWATCH_MQTT_ACL_FILE, ${DEFAULT_ACL_FILE}
  --mqtt <mqtts://host:port>  PUMPWATCH_MQTT_PUBLIC_URL, mqtts://<this host name>:8883
  --ca <file>            PUMPWATCH_MQTT_CA_FILE, ${DEFAULT_CA_FILE} (path on the client)
  --env-out <file>       write the client's environment file (0600) instead of printing the password
After a change, reload Mosquitto (systemctl reload mosquitto, i.e. SIGHUP).`;

/** Bad input; the CLI prints the message on one line and exits 2. */
export class UsageError extends Error {
  readonly code = 'PROVISION_USAGE';
}

const VALUE_OPTIONS = new Set(['--passwd-file', '--acl-file', '--mqtt', '--ca', '--env-out']);

function parseCommand(words: string[]): ProvisionCommand {
  const [first, second, third] = words;
  const extra = (n: number): void => {
    if (words.length > n) throw new UsageError(`unexpected argument: ${words[n] ?? ''}`);
  };
  const gatewayId = (id: string | undefined): string => {
    if (id === undefined) throw new UsageError('missing gateway id');
    if (!isValidGatewayId(id)) throw new UsageError(`invalid gateway id "${id}": 1-64 of A-Z a-z 0-9 _ -, not starting with _`);
    return id;
  };
  const instance = (name: string | undefined): string | null => {
    if (name === undefined) return null;
    if (!isValidGatewayId(name)) throw new UsageError(`invalid server instance "${name}": 1-64 of A-Z a-z 0-9 _ -, not starting with _`);
    return name;
  };
  switch (first) {
    case undefined: throw new UsageError('missing command (gateway <id> | revoke gateway <id> | server | revoke server | list)');
    case 'help': extra(1); return { action: 'help' };
    case 'list': extra(1); return { action: 'list' };
    case 'server': extra(2); return { action: 'add-server', instance: instance(second) };
    case 'gateway': extra(2); return { action: 'add-gateway', gatewayId: gatewayId(second) };
    case 'revoke':
      if (second === 'gateway') { extra(3); return { action: 'revoke-gateway', gatewayId: gatewayId(third) }; }
      if (second === 'server') { extra(3); return { action: 'revoke-server', instance: instance(third) }; }
      throw new UsageError('revoke what? (revoke gateway <id> | revoke server)');
    default: throw new UsageError(`unknown command: ${first}`);
  }
}

function checkMqttUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--mqtt: not a URL: ${raw}`);
  }
  if (url.protocol !== 'mqtts:') throw new UsageError(`--mqtt must be an mqtts:// URL (clients only connect with TLS), got ${raw}`);
  if (url.username || url.password) throw new UsageError('--mqtt must not carry credentials');
  return raw;
}

/** Parses `argv` (after the script name) and `env`; throws UsageError on bad input. */
export function parseProvisionArgs(argv: readonly string[], env: NodeJS.ProcessEnv, hostname: string): Readonly<ProvisionOptions> {
  const words: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--help' || a === '-h') return Object.freeze(withDefaults({ action: 'help' }, values, env, hostname));
    if (VALUE_OPTIONS.has(a)) {
      const v = argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${a} needs a value`);
      values.set(a, v);
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option: ${a}`);
    } else {
      words.push(a);
    }
  }
  return Object.freeze(withDefaults(parseCommand(words), values, env, hostname));
}

function withDefaults(command: ProvisionCommand, values: Map<string, string>, env: NodeJS.ProcessEnv, hostname: string): ProvisionOptions {
  const pick = (opt: string, envName: string, fallback: string): string => values.get(opt) ?? (env[envName] || fallback);
  return {
    command,
    passwordFile: pick('--passwd-file', 'PUMPWATCH_MQTT_PASSWORD_FILE', DEFAULT_PASSWORD_FILE),
    aclFile: pick('--acl-file', 'PUMPWATCH_MQTT_ACL_FILE', DEFAULT_ACL_FILE),
    mqttUrl: checkMqttUrl(pick('--mqtt', 'PUMPWATCH_MQTT_PUBLIC_URL', `mqtts://${hostname}:8883`)),
    caFile: pick('--ca', 'PUMPWATCH_MQTT_CA_FILE', DEFAULT_CA_FILE),
    envOut: values.get('--env-out') ?? null,
  };
}
