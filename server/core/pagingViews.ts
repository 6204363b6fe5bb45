/**
 * Alerts leave the server with their paging laid over them (§7): acceptedBy, acceptedAt, the
 * chain's state, the acknowledgement's note and outcome; GET /api/alerts, the WebSocket's snapshot
 * and alert messages, and a change of paging alone is pushed to the board like any alert change.
 * GET /api/health gains `paging` (degraded while a channel fails or a chain reached nobody).
 */
import type { LiveChange } from '../events/facts.ts';
import type { ApiBackend, PagingApi } from '../http/backend.ts';
import type { PagingService } from '../paging/pagingService.ts';

export function withPagingViews(base: ApiBackend, service: PagingService, paging: PagingApi): ApiBackend {
  return {
    ...base,
    paging,
    async alerts(query) {
      return paging.decorate(await base.alerts(query));
    },
    async snapshot() {
      const s = await base.snapshot();
      return { ...s, alerts: await paging.decorate(s.alerts) };
    },
    subscribe(listener) {
      const offCore = base.subscribe((changes) => listener(changes.map((c): LiveChange => (c.type === 'alert' ? { type: 'alert', alert: service.decorateHeld(c.alert) } : c))));
      const offPaging = service.onChange((alert) => listener([{ type: 'alert', alert }]));
      return () => {
        offCore();
        offPaging();
      };
    },
    async health() {
      const h = await base.health();
      const p = service.health();
      return { ...h, ...(p.status !== 'up' ? { status: 'degraded' as const } : {}), paging: p };
    },
  };
}

/** without DATABASE_URL: paging is off, and health says so */
export function withPagingOff(base: ApiBackend): ApiBackend {
  return {
    ...base,
    async health() {
      return { ...(await base.health()), paging: { status: 'off', reason: 'no DATABASE_URL' } };
    },
  };
}
