/** Times in messages are in the patient's zone when known, else the server's, and say which. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createDetectionEngine, DetectionConfigError, type OrderTerms } from '../../../../server/engine/index.ts';
import { byType, PumpFeed, replay } from './feed.ts';

const T0 = '2026-12-06T20:00:00Z'; // 14:00 in Chicago, 15:00 in New York
const T0_MS = Date.parse(T0);

function terms(timeZone: string | null): OrderTerms {
  return {
    assignmentId: 'as-1', orderId: 'ord-1', patientId: 'pat-1', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46,
    mode: 'continuous', fromMs: T0_MS - 3_600_000, timeZone,
  };
}

/** a pump that runs 5 min, then pauses at 20:05Z for 7 min: infusion_stopped */
function pausedMessage(engine: ReturnType<typeof createDetectionEngine>, pump: string): string {
  const f = new PumpFeed(pump, T0);
  replay(engine, [...f.start('P1', 5, 230, 46), ...f.run(5)]);
  const alerts = replay(engine, [f.evt('PAUSE'), f.sts({ state: 'PAUSE', rateMlH: 0 }), ...f.hold(7)]);
  const stopped = byType(alerts, 'infusion_stopped');
  assert.equal(stopped.length, 1);
  return stopped[0]!.message;
}

describe('time zones in messages', () => {
  test('an engine without a zone writes UTC, as before', () => {
    assert.match(pausedMessage(createDetectionEngine(), 'CS7-700001'), /since 20:05 UTC \(/);
  });

  test("the server's zone for a pump with no assignment", () => {
    assert.match(pausedMessage(createDetectionEngine({}, { timeZone: 'America/New_York' }), 'CS7-700002'), /since 15:05 EST \(/);
  });

  test("the patient's zone wins over the server's; an assignment whose patient has none uses the server's", () => {
    const e = createDetectionEngine({}, { timeZone: 'America/New_York' });
    e.setAssignmentsKnown(true, T0_MS - 60_000);
    e.setAssignment('CS7-700003', terms('America/Chicago'), T0_MS - 60_000);
    e.setAssignment('CS7-700004', terms(null), T0_MS - 60_000);
    assert.match(pausedMessage(e, 'CS7-700003'), /since 14:05 CST \(/);
    assert.match(pausedMessage(e, 'CS7-700004'), /since 15:05 EST \(/);
  });

  test("signal_lost, timed by the server clock, is in the patient's zone too", () => {
    const e = createDetectionEngine({}, { timeZone: 'UTC' });
    e.setAssignment('CS7-700005', terms('Europe/Paris'), T0_MS - 60_000);
    const f = new PumpFeed('CS7-700005', T0);
    replay(e, [...f.start('P1', 5, 230, 46), ...f.run(5)]);
    e.tick(f.timeMs + 10 * 60_000);
    const lost = byType(e.takeChanges().alerts, 'signal_lost');
    assert.equal(lost.length, 1);
    assert.match(lost[0]!.message, /last heard 21:05 GMT\+1\)/);
  });

  test('a zone that is not an IANA zone is refused with the config error', () => {
    assert.throws(() => createDetectionEngine({}, { timeZone: 'Mars/Olympus' }), DetectionConfigError);
  });
});
