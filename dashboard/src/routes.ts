/**
 * Every server route the dashboard calls, in one place: requests (api.ts), download links
 * (billing.ts) and the live socket (main.ts) build their URLs only with routeUrl(). The roles are
 * those of the pages that make the call (docs/api.md, docs/dashboard.md).
 * test/e2e/dashboardRoutes.test.ts walks each one against the real server and checks that no other
 * call or `/api/` path exists in dashboard/src.
 */
import type { Role } from '../../protocol/api.ts';

export interface DashboardRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** with `:name` parameters */
  path: string;
  /** who the dashboard makes this call as; 'anyone' before login */
  roles: readonly (Role | 'anyone')[];
  /** what the answer is: JSON, nothing (204), a CSV or NDJSON download, or the WebSocket upgrade */
  answer: 'json' | 'empty' | 'csv' | 'ndjson' | 'websocket';
}

export const DASHBOARD_ROUTES = {
  me: { method: 'GET', path: '/api/me', roles: ['anyone'], answer: 'json' },
  login: { method: 'POST', path: '/api/session', roles: ['anyone'], answer: 'json' },
  logout: { method: 'DELETE', path: '/api/session', roles: ['nurse', 'billing', 'pharmacist', 'admin'], answer: 'empty' },
  health: { method: 'GET', path: '/api/health', roles: ['anyone'], answer: 'json' },
  live: { method: 'GET', path: '/ws', roles: ['nurse', 'admin'], answer: 'websocket' },
  acknowledge: { method: 'POST', path: '/api/alerts/:id/ack', roles: ['nurse', 'admin'], answer: 'json' },
  pumpAlerts: { method: 'GET', path: '/api/alerts', roles: ['nurse', 'admin'], answer: 'json' },
  telemetry: { method: 'GET', path: '/api/pumps/:pump/telemetry', roles: ['nurse', 'admin'], answer: 'json' },
  pumpLabel: { method: 'PUT', path: '/api/pumps/:pump/label', roles: ['nurse', 'admin'], answer: 'json' },
  pumpVisit: { method: 'PUT', path: '/api/pumps/:pump/visit', roles: ['nurse', 'admin'], answer: 'json' },
  endPumpVisit: { method: 'DELETE', path: '/api/pumps/:pump/visit', roles: ['nurse', 'admin'], answer: 'json' },
  episodes: { method: 'GET', path: '/api/billing/episodes', roles: ['billing', 'admin'], answer: 'json' },
  episodesCsv: { method: 'GET', path: '/api/billing/episodes.csv', roles: ['billing', 'admin'], answer: 'csv' },
  evidence: { method: 'GET', path: '/api/billing/episodes/:id/evidence', roles: ['billing', 'admin'], answer: 'ndjson' },
  reviewEpisode: { method: 'POST', path: '/api/billing/episodes/:id/review', roles: ['billing', 'admin'], answer: 'json' },
  // clinical records (interfaces.md §6): the records view, for whoever creates and changes them
  patients: { method: 'GET', path: '/api/patients', roles: ['pharmacist', 'admin'], answer: 'json' },
  createPatient: { method: 'POST', path: '/api/patients', roles: ['pharmacist', 'admin'], answer: 'json' },
  orders: { method: 'GET', path: '/api/orders', roles: ['pharmacist', 'admin'], answer: 'json' },
  createOrder: { method: 'POST', path: '/api/orders', roles: ['pharmacist', 'admin'], answer: 'json' },
  assignments: { method: 'GET', path: '/api/assignments', roles: ['pharmacist', 'admin'], answer: 'json' },
  createAssignment: { method: 'POST', path: '/api/assignments', roles: ['pharmacist', 'admin'], answer: 'json' },
  endAssignment: { method: 'POST', path: '/api/assignments/:id/end', roles: ['pharmacist', 'admin'], answer: 'json' },
  drugLimits: { method: 'GET', path: '/api/drug-limits', roles: ['pharmacist', 'admin'], answer: 'json' },
  saveDrugLimits: { method: 'PUT', path: '/api/drug-limits', roles: ['pharmacist', 'admin'], answer: 'json' },
  // Web Push (docs/push.md): the board's "Get alerts on this device"
  pushKey: { method: 'GET', path: '/api/push/key', roles: ['nurse', 'admin'], answer: 'json' },
  pushSubscribe: { method: 'POST', path: '/api/push/subscriptions', roles: ['nurse', 'admin'], answer: 'json' },
  pushUnsubscribe: { method: 'DELETE', path: '/api/push/subscriptions', roles: ['nurse', 'admin'], answer: 'empty' },
  // paging (interfaces.md §7): who is on call (everyone), the rota (admin), contacts, an alert's pages (board)
  onCall: { method: 'GET', path: '/api/oncall', roles: ['nurse', 'billing', 'pharmacist', 'admin'], answer: 'json' },
  onCallShifts: { method: 'GET', path: '/api/oncall/shifts', roles: ['admin'], answer: 'json' },
  saveOnCall: { method: 'PUT', path: '/api/oncall', roles: ['admin'], answer: 'json' },
  // an admin's for anyone, everyone else's for themself
  contact: { method: 'GET', path: '/api/users/:username/contact', roles: ['nurse', 'billing', 'pharmacist', 'admin'], answer: 'json' },
  saveContact: { method: 'PUT', path: '/api/users/:username/contact', roles: ['nurse', 'billing', 'pharmacist', 'admin'], answer: 'json' },
  alertPages: { method: 'GET', path: '/api/alerts/:id/pages', roles: ['nurse', 'admin'], answer: 'json' },
} as const satisfies Record<string, DashboardRoute>;

export type RouteName = keyof typeof DASHBOARD_ROUTES;

/** The route's path with its parameters filled in (encoded), plus a query string when given. */
export function routeUrl(name: RouteName, params: Record<string, string> = {}, query?: URLSearchParams): string {
  const path = DASHBOARD_ROUTES[name].path.replace(/:([a-z]+)/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined) throw new Error(`route ${name} needs :${key}`);
    return encodeURIComponent(value);
  });
  const q = query?.toString() ?? '';
  return q ? `${path}?${q}` : path;
}
