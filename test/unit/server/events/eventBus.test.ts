import { describe, expect, test, vi } from 'vitest';
import { EventBus } from '../../../../server/events/eventBus.ts';
import type { Alert, PumpView } from '../../../../protocol/api.ts';

const pump = (serial: string): PumpView => ({ pump: serial } as PumpView);
const alert = (id: string): Alert => ({ id } as Alert);

describe('EventBus', () => {
  test('delivers each fact to its listeners in the order they subscribed, and to nobody else', () => {
    const bus = new EventBus({ error: vi.fn() });
    const seen: string[] = [];
    bus.on('pumpChanged', (p) => seen.push(`a:${p.pump}`));
    bus.on('pumpChanged', (p) => seen.push(`b:${p.pump}`));
    bus.on('alertRaised', (a) => seen.push(`raised:${a.id}`));
    bus.emit('pumpChanged', pump('P1'));
    expect(seen).toEqual(['a:P1', 'b:P1']);
  });

  test('a listener that throws is logged once and cannot stop the others', () => {
    const error = vi.fn();
    const bus = new EventBus({ error });
    const seen: string[] = [];
    bus.on('alertRaised', () => {
      throw new Error('SMTP down');
    });
    bus.on('alertRaised', (a) => seen.push(a.id));
    bus.emit('alertRaised', alert('A1'));
    bus.emit('alertRaised', alert('A2'));
    expect(seen).toEqual(['A1', 'A2']);
    expect(error).toHaveBeenCalledTimes(1);
    expect(error.mock.calls[0]?.[0]).toMatchObject({ fact: 'alertRaised', err: 'SMTP down', code: 'FACT_LISTENER_FAILED' });
    expect(bus.failures.alertRaised).toBe(2);
  });

  test('off and the returned function remove a listener; has() says whether anyone listens', () => {
    const bus = new EventBus({ error: vi.fn() });
    const seen: number[] = [];
    expect(bus.has('journalled')).toBe(false);
    const off = bus.on('journalled', (f) => seen.push(f.lastId));
    const other = (f: { lastId: number }): void => {
      seen.push(-f.lastId);
    };
    bus.on('journalled', other);
    expect(bus.has('journalled')).toBe(true);
    bus.emit('journalled', { lastId: 1 });
    off();
    bus.off('journalled', other);
    bus.emit('journalled', { lastId: 2 });
    expect(seen).toEqual([1, -1]);
    expect(bus.has('journalled')).toBe(false);
  });

  test('a listener leaving during an emit does not make another one miss that fact', () => {
    const bus = new EventBus({ error: vi.fn() });
    const seen: string[] = [];
    const off = bus.on('alertCleared', () => {
      seen.push('first');
      off();
    });
    bus.on('alertCleared', () => seen.push('second'));
    bus.emit('alertCleared', alert('A1'));
    bus.emit('alertCleared', alert('A1'));
    expect(seen).toEqual(['first', 'second', 'second']);
  });
});
