/**
 * The broker's ACL file as text (Mosquitto acl_file format): a hand-edited header, then one
 * block per account starting at its `user` line. Pure: no file access.
 */
import { TOPIC_ROOT } from '../../protocol/topics.ts';

export type AccountKind = 'gateway' | 'server';

export interface AclAccount {
  username: string;
  kind: AccountKind;
  /** `topic read|write|readwrite <filter>` lines, in order */
  rules: readonly string[];
}

/**
 * The server's broker account; it can never be a gateway id (those may not start with "_"). The
 * broker uses usernames as client ids, so each further server instance has its own: `_server-<name>`.
 */
export const SERVER_USERNAME = '_server';

export function serverUsername(instance: string | null): string {
  return instance === null ? SERVER_USERNAME : `${SERVER_USERNAME}-${instance}`;
}

/** A gateway may publish (and only publish) under its own id. */
export function gatewayAccount(gatewayId: string): AclAccount {
  return { username: gatewayId, kind: 'gateway', rules: [`topic write ${TOPIC_ROOT}/${gatewayId}/#`] };
}

/** The server reads what gateways publish and nothing else, and owns pumpwatch/_server/ for scale-out. */
export function serverAccount(instance: string | null = null): AclAccount {
  return {
    username: serverUsername(instance),
    kind: 'server',
    rules: [
      `topic read ${TOPIC_ROOT}/+/pumps/+`,
      `topic read ${TOPIC_ROOT}/+/availability`,
      `topic read ${TOPIC_ROOT}/+/diagnostics`,
      `topic readwrite ${TOPIC_ROOT}/_server/#`,
    ],
  };
}

interface ParsedAcl {
  header: string[];
  blocks: { username: string; lines: string[] }[];
}

const USER_LINE = /^\s*user\s+(\S+)\s*$/;
const KIND_LINE = /^# pumpwatch (gateway|server)\b/;

function parseAcl(text: string): ParsedAcl {
  const header: string[] = [];
  const blocks: ParsedAcl['blocks'] = [];
  for (const line of text.split('\n')) {
    const user = USER_LINE.exec(line);
    if (user?.[1]) blocks.push({ username: user[1], lines: [line] });
    else if (blocks.length > 0) blocks[blocks.length - 1]?.lines.push(line);
    else header.push(line);
  }
  return { header, blocks };
}

function trimBlankTail(lines: string[]): string[] {
  const out = [...lines];
  while (out.length > 0 && (out[out.length - 1] ?? '').trim() === '') out.pop();
  return out;
}

function render(acl: ParsedAcl): string {
  const parts = [trimBlankTail(acl.header).join('\n')];
  for (const b of acl.blocks) parts.push(trimBlankTail(b.lines).join('\n'));
  return parts.filter((p) => p !== '').join('\n\n') + '\n';
}

function blockFor(account: AclAccount, note: string): string[] {
  return [`user ${account.username}`, `# pumpwatch ${account.kind} ${note}`.trimEnd(), ...account.rules];
}

/** Which kind of pumpwatch account `username` is in the ACL text; null when absent or hand-made. */
export function accountKind(text: string, username: string): AccountKind | null {
  const block = parseAcl(text).blocks.find((b) => b.username === username);
  for (const line of block?.lines ?? []) {
    const m = KIND_LINE.exec(line);
    if (m?.[1] === 'gateway' || m?.[1] === 'server') return m[1];
  }
  return null;
}

export function hasAccount(text: string, username: string): boolean {
  return parseAcl(text).blocks.some((b) => b.username === username);
}

/** Usernames with a block, in file order. */
export function accountNames(text: string): string[] {
  return parseAcl(text).blocks.map((b) => b.username);
}

/** Adds the account's block, replacing any block for the same username (so rules never pile up). */
export function upsertAccount(text: string, account: AclAccount, note = ''): string {
  const acl = parseAcl(text);
  acl.blocks = acl.blocks.filter((b) => b.username !== account.username);
  acl.blocks.push({ username: account.username, lines: blockFor(account, note) });
  return render(acl);
}

/** Removes every block for `username`; the rest of the file is kept as it was. */
export function removeAccount(text: string, username: string): string {
  const acl = parseAcl(text);
  acl.blocks = acl.blocks.filter((b) => b.username !== username);
  return render(acl);
}
