/**
 * What a page says, on a lock screen (title) and in a few lines (body): patient, pump, what
 * happened, the link to accept. Several pages due for one person within the grouping window
 * become one message listing each alert with its own link.
 */
import type { Alert } from '../../protocol/api.ts';
import type { PageMessage } from './channel.ts';

export type Patient = PageMessage['patient'];

export interface DuePage {
  pageId: string;
  alert: Alert;
  patient: Patient;
  acceptUrl: string;
}

function who(p: Patient): string {
  return p ? `${p.name} (MRN ${p.mrn})${p.phone ? `, tel. ${p.phone}` : ''}` : 'no patient assigned';
}

function lines(d: DuePage): string[] {
  const a = d.alert;
  return [
    `Patient: ${who(d.patient)}`,
    `Pump: ${a.pump}`,
    `Alert: ${a.message} [${a.severity}, ${a.type}] raised ${a.raisedAt}`,
  ];
}

export function pageMessage(items: readonly DuePage[]): PageMessage {
  const first = items[0]!;
  if (items.length === 1) {
    return {
      kind: 'page', pageId: first.pageId, alert: first.alert, patient: first.patient, acceptUrl: first.acceptUrl,
      title: `Pumpwatch page: ${first.alert.message}`.slice(0, 120),
      body: [...lines(first), '', 'Please accept if you take this alert, or decline so the next person is paged.'].join('\n'),
    };
  }
  const body = [`${items.length} alerts for you:`];
  items.forEach((d, i) => body.push('', `${i + 1}. ${d.alert.message}`, ...lines(d).map((l) => `   ${l}`), `   Accept or decline: ${d.acceptUrl}`));
  return {
    kind: 'page', pageId: first.pageId, alert: first.alert, patient: first.patient, acceptUrl: first.acceptUrl,
    title: `Pumpwatch: ${items.length} alerts need you`, body: body.join('\n'),
  };
}

export function acceptedMessage(pageId: string, alert: Alert, patient: Patient, acceptedBy: string): PageMessage {
  return {
    kind: 'accepted', pageId, alert, patient, acceptUrl: null, acceptedBy,
    title: `Taken by ${acceptedBy}: ${alert.message}`.slice(0, 120),
    body: [`${acceptedBy} accepted this alert; you need not act.`, `Pump: ${alert.pump}`, `Alert: ${alert.message}`].join('\n'),
  };
}

export function resolvedMessage(pageId: string, alert: Alert, patient: Patient): PageMessage {
  return {
    kind: 'resolved', pageId, alert, patient, acceptUrl: null,
    title: `Resolved: ${alert.message}`.slice(0, 120),
    body: [`The alert cleared before anyone accepted it; no action needed for it.`, `Pump: ${alert.pump}`, `Alert: ${alert.message}`].join('\n'),
  };
}
