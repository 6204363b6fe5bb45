/**
 * What the HTTP layer asks of paging (the PagingApi port of server/http/backend.ts): the on-call
 * rota, contacts, the pages of an alert, the phone page's token, accept and decline, the note of
 * an acknowledgement. Accept and decline go through the chain like any other change.
 */
import type { AckOutcome, Alert, OnCallShift, PageRecord, PageTokenView } from '../../protocol/api.ts';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import * as esc from './escalation.ts';
import type { Patient } from './messages.ts';
import type { PagingHealth } from './pagingHealth.ts';
import { hashToken, type PagingAuditEvent, type PagingService } from './pagingService.ts';
import type { PagingStore, TokenPage } from './pagingStore.ts';

export class PagingError extends Error {
  constructor(readonly code: 'UNKNOWN_USER' | 'BAD_SHIFT', message: string) {
    super(message);
    this.name = 'PagingError';
  }
}

export type AnswerResult = 'ok' | 'not_found' | 'used' | 'expired' | 'already_accepted';

export interface PagingApiDeps {
  service: PagingService;
  store: PagingStore;
  clock: Clock;
  log: Logger;
  patientOf: (alert: Alert) => Promise<Patient>;
}

export function createPagingApi(d: PagingApiDeps) {
  const { service, store, clock } = d;

  async function view(p: TokenPage): Promise<PageTokenView> {
    const held = service.chains.get(p.alertId);
    const a = held?.alert ?? p.alert;
    const chainStatus = held?.state.status ?? p.chainStatus;
    const expired = p.status === 'expired' || chainStatus === 'closed' || a.status === 'cleared' || a.acknowledged;
    const patient = await d.patientOf(a).catch(() => null);
    return {
      alert: { id: a.id, type: a.type, severity: a.severity, message: a.message, pump: a.pump, raisedAt: a.raisedAt, status: a.status },
      patient,
      status: p.status === 'sending' ? 'sent' : p.status,
      acceptedBy: held?.state.acceptedBy ?? p.acceptedBy,
      expired,
    };
  }

  async function answer(token: string, what: 'accept' | 'decline'): Promise<{ result: AnswerResult; view: PageTokenView | null }> {
    const page = await store.pageByToken(hashToken(token));
    if (!page) return { result: 'not_found', view: null };
    const result = await service.serial(page.alertId, async (): Promise<AnswerResult> => {
      const before = await view(page);
      if (before.expired) return 'expired';
      if (before.acceptedBy !== null) return 'already_accepted';
      if (page.status !== 'sent' && page.status !== 'sending') return page.status === 'expired' ? 'expired' : 'used';
      const first = await store.chain(page.alertId);
      if (!first || first.state.status === 'closed') return 'expired';
      if (!(await store.answerPage(page.pageId, what === 'accept' ? 'accepted' : 'declined', clock.now()))) return 'used';
      const now = clock.now();
      const answerIt = (s: esc.ChainState): esc.Transition => (what === 'accept' ? esc.accept(s, page.username, now) : esc.decline(s, page.username, now));
      // computed on the chain as PostgreSQL has it: the instance answering may not be the one
      // driving the chain (several instances, a takeover), and what it holds may be a step behind
      let stored: typeof first | null = first;
      for (let attempt = 0; attempt < 3 && stored && stored.state.status !== 'closed'; attempt++) {
        service.chains.set(page.alertId, { state: stored.state, alert: service.chains.get(page.alertId)?.alert ?? stored.alert });
        if (answerIt(stored.state).state === stored.state) break; // nothing to change (a decline of a step already passed)
        if (await service.transit(page.alertId, answerIt)) break;
        stored = await store.chain(page.alertId); // the driver moved it meanwhile: once more on the new state
      }
      if (what === 'accept') await store.expirePages(page.alertId);
      service.emitAudit({
        action: what === 'accept' ? 'page_accepted' : 'page_declined', actor: page.username, target: page.alertId, outcome: 'ok',
        detail: { round: page.round, step: page.step },
      });
      return 'ok';
    });
    const after = await store.pageByToken(hashToken(token));
    return { result, view: after ? await view(after) : null };
  }

  return {
    shifts: () => store.shifts(),
    async replaceShifts(shifts: readonly OnCallShift[]): Promise<void> {
      const names = [...new Set(shifts.flatMap((s) => s.chain))];
      const known = await store.knownUsers(names);
      const unknown = names.filter((n) => !known.has(n));
      if (unknown.length > 0) throw new PagingError('UNKNOWN_USER', `no such account: ${unknown.join(', ')}`);
      for (const s of shifts) {
        if (!(Date.parse(s.to) > Date.parse(s.from))) throw new PagingError('BAD_SHIFT', 'a shift must end after it starts');
        if (new Set(s.chain).size !== s.chain.length) throw new PagingError('BAD_SHIFT', 'a person is in a chain once');
      }
      await store.replaceShifts(shifts);
    },
    async onCall(atMs: number): Promise<{ shift: OnCallShift | null; chain: string[] }> {
      const shift = await store.shiftAt(atMs);
      return { shift, chain: shift?.chain ?? [] };
    },
    async contact(username: string): Promise<{ username: string; email: string | null; push: number } | null> {
      const c = await store.contact(username);
      return c ? { username, email: c.email, push: c.push.length } : null;
    },
    setContact: (username: string, email: string | null): Promise<boolean> => store.setEmail(username, email),
    pages: (alertId: string): Promise<PageRecord[]> => store.pages(alertId),
    async tokenView(token: string): Promise<PageTokenView | null> {
      const p = await store.pageByToken(hashToken(token));
      return p ? view(p) : null;
    },
    answer,
    async recordAck(alert: Alert, by: string, note: string | null, outcome: AckOutcome | null): Promise<Alert> {
      // the acknowledgement itself is done (journalled by the core): a database outage loses the note, not the answer
      if (note !== null || outcome !== null) {
        await store.saveAckNote(alert.id, by, note, outcome, clock.now())
          .catch((err: Error) => d.log.error({ err: err.message, code: 'ACK_NOTE_NOT_KEPT' }, 'acknowledgement note not kept: database unavailable'));
      }
      const [shown] = await service.decorate([alert]);
      if (note !== null || outcome !== null) service.noteSaved(shown!);
      return shown!;
    },
    decorate: (alerts: readonly Alert[]): Promise<Alert[]> => service.decorate(alerts),
    health: (): PagingHealth => service.health(),
    onAudit: (listener: (e: PagingAuditEvent) => void): (() => void) => service.onAudit(listener),
  };
}

export type PagingApiImpl = ReturnType<typeof createPagingApi>;
