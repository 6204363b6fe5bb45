/**
 * Patient identifiers stay in PostgreSQL (issue: "Logs, metrics and MQTT still carry no patient
 * identifiers"): a patient is created, read, assigned, and her pump raises alerts that a nurse
 * acknowledges, with every log line of the server at debug level captured, every MQTT message on
 * the broker watched, /metrics read and InfluxDB dumped. Her name, MRN, phone and notes appear in none.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Alert } from '../../../protocol/api.ts';
import type { Order, Patient } from '../../../protocol/clinical.ts';
import { ClinicalServerStack } from './clinicalServer.ts';

const PATIENT = { mrn: 'MRN-PRIV-77310', name: 'Philippa Quixote-Zed', phone: '+1 555 0173 998', notes: 'lives with Zenobia Quixote-Zed' };
const IDENTIFIERS = [PATIENT.mrn, PATIENT.name, PATIENT.phone, PATIENT.notes, 'Quixote', '0173 998'];
const PUMP = 'PRV-001';

const logLines: string[] = [];
const stack = new ClinicalServerStack(true, { write: (line: string) => void logLines.push(line) });
const mqttSeen: string[] = [];
let spy: MqttClient;

beforeAll(async () => {
  await stack.start();
  // everything anyone publishes, retained messages included
  spy = await mqtt.connectAsync(stack.broker.url, { clientId: `privacy-spy-${stack.port}`, clean: true });
  spy.on('message', (topic, payload) => mqttSeen.push(`${topic} ${payload.toString('utf8')}`));
  await spy.subscribeAsync(['#', '$share/privacy/#'], { qos: 1 });
  await vi.waitFor(async () => expect((await stack.anonymous().call<{ database: string }>('GET', '/api/health')).body.database).toBe('up'), { timeout: 30_000 });
}, 90_000);

afterAll(async () => {
  await spy?.endAsync();
  await stack.dispose();
});

const leaks = (text: string): string[] => IDENTIFIERS.filter((id) => text.includes(id));

describe('patient identifiers never leave PostgreSQL but through the API', () => {
  test('logs, MQTT, /metrics and InfluxDB carry none of them through a whole assigned infusion with alerts', async () => {
    const pharmacist = await stack.login('pharmacist');
    const nurse = await stack.login('nurse');
    const admin = await stack.login('admin');
    const patient = await pharmacist.ok<Patient>('POST', '/api/patients', PATIENT);
    const order = await pharmacist.ok<Order>('POST', '/api/orders', {
      patientId: patient.id, drug: 'FLUOROURACIL', rateMlH: 1.2, volumeMl: 115.2, hours: 96, mode: 'continuous', start: new Date(Date.now() - 3_600_000).toISOString(),
    });
    await pharmacist.ok('POST', '/api/assignments', { pump: PUMP, orderId: order.id });
    await pharmacist.ok('PATCH', `/api/patients/${patient.id}`, { phone: PATIENT.phone });

    // the ISMP wrong rate, then an occlusion: two high alerts on her pump
    const t0 = Date.now();
    await stack.send(PUMP, { type: 'event', code: 'POWER_ON', detail: '4.2.1' }, t0 - 2000);
    await stack.send(PUMP, { type: 'program', programId: 'PRV', drug: 'FLUOROURACIL', rateMlH: 28.8, volumeMl: 130, hours: 4.5 }, t0 - 1000);
    await stack.send(PUMP, { type: 'event', code: 'START', detail: 'PRV' }, t0);
    await stack.send(PUMP, { type: 'status', state: 'ALARM', rateMlH: 0, infusedMl: 0.5, vtbiMl: 129.5, reservoirMl: 129.5, pressureMmHg: 420, batteryPct: 90, alarms: ['OCCL_DN'] }, t0 + 500);
    const alerts = await vi.waitFor(async () => {
      const a = await nurse.ok<Alert[]>('GET', `/api/alerts?status=active&pump=${PUMP}`);
      expect(a.map((x) => x.type).sort()).toEqual(['occlusion', 'program_mismatch']);
      return a;
    }, { timeout: 15_000 });
    expect(alerts.every((a) => a.patientId === patient.id)).toBe(true);

    // what a nurse does at 3 a.m.: reads whom to call, acknowledges
    expect((await nurse.ok<Patient>('GET', `/api/patients/${patient.id}`)).phone).toBe(PATIENT.phone);
    for (const a of alerts) await nurse.ok('POST', `/api/alerts/${encodeURIComponent(a.id)}/ack`, undefined, 200);
    // the board's view names her, through the role-checked API (the positive control for the scans below)
    const pumps = await nurse.ok<{ pump: string; patient?: { name: string } | null }[]>('GET', '/api/pumps');
    expect(pumps.find((p) => p.pump === PUMP)?.patient?.name).toBe(PATIENT.name);

    const metrics = (await admin.call<string>('GET', '/metrics')).body;
    expect(metrics).toContain('# TYPE');
    // everything stored in InfluxDB (telemetry, alerts, acknowledgements)
    const influxBase = stack.influx.urlFor('pumpwatch_clinical').replace(/\/pumpwatch_clinical$/, '');
    const dump = await vi.waitFor(async () => {
      const res = await fetch(`${influxBase}/query?db=pumpwatch_clinical&q=${encodeURIComponent('SELECT * FROM /.*/')}`);
      const text = await res.text();
      expect(text).toContain(PUMP); // the alerts and telemetry are stored by now
      return text;
    }, { timeout: 15_000 });

    expect(logLines.length).toBeGreaterThan(10);
    expect(mqttSeen.length).toBeGreaterThan(3);
    expect(logLines.flatMap(leaks), 'server log').toEqual([]);
    expect(mqttSeen.flatMap(leaks), 'MQTT').toEqual([]);
    expect(leaks(metrics), '/metrics').toEqual([]);
    expect(leaks(dump), 'InfluxDB').toEqual([]);
  }, 60_000);
});
