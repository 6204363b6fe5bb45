import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import {
  SERVER_USERNAME, accountKind, accountNames, gatewayAccount, hasAccount, removeAccount, serverAccount, upsertAccount,
} from '../../../../server/cli/provisionAcl.ts';
import { isValidGatewayId } from '../../../../protocol/topics.ts';

const HEADER = '# pumpwatch ACL\n# hand-written notes\npattern read $SYS/broker/uptime\n';

describe('ACL text', () => {
  test('a gateway may only write under its own id', () => {
    assert.deepEqual(gatewayAccount('home-7').rules, ['topic write pumpwatch/home-7/#']);
  });

  test('the server reads pump, availability and diagnostics topics and owns pumpwatch/_server/#', () => {
    assert.deepEqual(serverAccount().rules, [
      'topic read pumpwatch/+/pumps/+',
      'topic read pumpwatch/+/availability',
      'topic read pumpwatch/+/diagnostics',
      'topic readwrite pumpwatch/_server/#',
    ]);
    assert.equal(isValidGatewayId(SERVER_USERNAME), false, 'no gateway can take the server\'s username');
  });

  test('upsert appends a block after the header and keeps the header byte for byte', () => {
    const text = upsertAccount(HEADER, gatewayAccount('home-1'), 'provisioned 2026-01-01T00:00:00.000Z');
    assert.equal(text, `${HEADER}\nuser home-1\n# pumpwatch gateway provisioned 2026-01-01T00:00:00.000Z\ntopic write pumpwatch/home-1/#\n`);
    assert.equal(accountKind(text, 'home-1'), 'gateway');
    assert.ok(hasAccount(text, 'home-1'));
  });

  test('upserting the same account twice leaves one block', () => {
    let text = upsertAccount(HEADER, gatewayAccount('home-1'));
    text = upsertAccount(text, serverAccount());
    text = upsertAccount(text, gatewayAccount('home-1'), 'again');
    assert.deepEqual(accountNames(text), [SERVER_USERNAME, 'home-1']);
    assert.equal(text.split('topic write pumpwatch/home-1/#').length, 2);
  });

  test('remove takes out exactly one account and leaves the others and the header', () => {
    let text = HEADER;
    for (const id of ['a', 'b', 'c']) text = upsertAccount(text, gatewayAccount(id));
    text = upsertAccount(text, serverAccount());
    const after = removeAccount(text, 'b');
    assert.deepEqual(accountNames(after), ['a', 'c', SERVER_USERNAME]);
    assert.ok(after.startsWith(HEADER));
    assert.ok(!after.includes('pumpwatch/b/'));
    assert.equal(accountKind(after, SERVER_USERNAME), 'server');
    assert.equal(removeAccount(after, 'zzz'), after, 'removing an absent account changes nothing');
  });

  test('a user name that is a prefix of another is not confused with it', () => {
    let text = upsertAccount('', gatewayAccount('home'));
    text = upsertAccount(text, gatewayAccount('home-2'));
    text = removeAccount(text, 'home');
    assert.deepEqual(accountNames(text), ['home-2']);
  });

  test('hand-written user blocks are kept and reported as not ours', () => {
    const text = `${HEADER}\nuser ops\ntopic read $SYS/#\n`;
    assert.equal(accountKind(text, 'ops'), null);
    assert.ok(hasAccount(text, 'ops'));
    const withGw = upsertAccount(text, gatewayAccount('home-1'));
    assert.ok(withGw.includes('user ops\ntopic read $SYS/#'));
  });
});
