import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeFixture, PASSWORDS, TOKEN, type Fixture } from './appFixture.ts';

const auth = { authorization: `Bearer ${TOKEN}` };

describe('request bodies are JSON only', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await makeFixture();
  });
  afterAll(async () => {
    await f.close();
  });

  test.each([
    ['POST', '/api/session', 'text/plain', 'username=alice'],
    ['POST', '/api/session', 'text/plain; charset=utf-8', JSON.stringify({ username: 'alice', password: PASSWORDS.alice })],
    ['POST', '/api/session', 'application/x-www-form-urlencoded', 'username=alice&password=x'],
    ['PUT', '/api/pumps/PMP-001/label', 'text/plain', 'bed 4'],
    ['PUT', '/api/pumps/PMP-001/label', 'application/xml', '<label>bed 4</label>'],
  ] as const)('%s %s with %s: 415 unsupported_media_type', async (method, url, contentType, payload) => {
    const res = await f.app.inject({ method, url, headers: { ...auth, origin: f.origin, 'content-type': contentType }, payload });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ error: 'unsupported_media_type', message: 'unsupported content type' });
    expect(f.backend.labels.size).toBe(0);
  });

  test('the same bodies as JSON are taken', async () => {
    const login = await f.app.inject({
      method: 'POST', url: '/api/session', headers: { origin: f.origin, 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'alice', password: PASSWORDS.alice }),
    });
    expect(login.statusCode).toBe(200);
    const label = await f.app.inject({ method: 'PUT', url: '/api/pumps/PMP-001/label', headers: { ...auth, 'content-type': 'application/json; charset=utf-8' }, payload: '{"label":"bed 4"}' });
    expect(label.statusCode).toBe(200);
    expect(f.backend.labels.get('PMP-001')).toBe('bed 4');
  });
});
