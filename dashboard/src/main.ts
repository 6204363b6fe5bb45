/** Entry point: session, routing between board / pump detail / billing, and the live wiring. */
import './styles.css';
import type { ServerMessage } from '../../protocol/api.ts';
import { AlertsPanel } from './alerts.ts';
import { Announcer, alertSentence } from './announce.ts';
import { acknowledgeAlert, fetchMe, logout, onSessionLost, serverReachable, type Me } from './api.ts';
import { BillingView } from './billing.ts';
import { Board } from './board.ts';
import { DATABASE_DOWN_TEXT, DatabaseWatch, type DatabaseState } from './databaseStatus.ts';
import { el, setText } from './element.ts';
import { ackText, alertTypeText, pumpName, staleBannerText } from './format.ts';
import { LiveConnection, type LiveStatus } from './live.ts';
import { loginView } from './login.ts';
import { OnCallView } from './onCall.ts';
import type { AckOutcome } from './pagingText.ts';
import { PumpDetail } from './pumpDetail.ts';
import { PushControl } from './pushSubscribe.ts';
import { RecordsView } from './records.ts';
import { RenderLoop } from './renderLoop.ts';
import { routeUrl } from './routes.ts';
import { LiveStore } from './store.ts';

/** ms between refreshes of one slice of the rows' "x min ago" texts */
const AGE_TICK_MS = 1000;
/** slices: every row is refreshed every AGE_TICK_MS × AGE_SLICES */
const AGE_SLICES = 15;

const app = document.getElementById('app')!;
const banner = document.getElementById('stale-banner')!;
const announcer = new Announcer(document.getElementById('live-polite')!, document.getElementById('live-assertive')!);

interface Session {
  me: Me;
  stop(): void;
}
let session: Session | null = null;

function showLogin(notice?: string): void {
  session?.stop();
  session = null;
  document.body.classList.remove('stale');
  banner.hidden = true;
  app.replaceChildren(loginView(startSession, () => announcer.enableSound(1000), notice));
}

function setBanner(status: LiveStatus): void {
  const stale = status.state !== 'live';
  document.body.classList.toggle('stale', stale);
  banner.hidden = !stale;
  if (status.state === 'lost') {
    banner.replaceChildren(el('strong', {}, staleBannerText(status.sinceMs)), el('span', {}, ' Trying to reconnect…'));
  } else if (status.state === 'connecting') {
    banner.replaceChildren(el('strong', {}, 'Connecting to live updates — nothing shown here is live yet.'));
  }
}

function startSession(me: Me): void {
  const canSeePumps = me.role === 'nurse' || me.role === 'admin';
  const canBill = me.role === 'billing' || me.role === 'admin';
  const canManageRecords = me.role === 'pharmacist' || me.role === 'admin';
  const store = new LiveStore();
  store.serverZone = me.timeZone ?? null;
  const board = new Board(store);
  const view = el('main', { id: 'view', class: 'view', tabindex: '-1' });
  let detail: PumpDetail | null = null;
  let billing: BillingView | null = null;
  let records: RecordsView | null = null;
  let onCall: OnCallView | null = null;
  // the clinical records database: a banner when it is down (alarms go on), clinical parts hidden when off
  const dbBanner = el('div', { class: 'db-banner', role: 'alert', hidden: true }, el('strong', {}, DATABASE_DOWN_TEXT));
  const showDatabase = (state: DatabaseState): void => {
    dbBanner.hidden = state !== 'down';
    document.body.classList.toggle('db-down', state === 'down');
    document.body.classList.toggle('clinical-off', state === 'off');
    records?.setDatabase(state);
  };
  const database = new DatabaseWatch(showDatabase);

  const ack = async (id: string, extra?: { note?: string; outcome?: AckOutcome }): Promise<void> => {
    const alert = await acknowledgeAlert(id, extra);
    store.acknowledged(alert);
    announcer.say(`Acknowledged: ${alertTypeText(alert.type)}`, false);
    loop.requestNow();
  };
  const panel = new AlertsPanel(store, ack, ack);
  const loop = new RenderLoop(() => {
    const changes = store.takeChanges();
    if (board.render(changes, Date.now())) loop.requestNow();
    // alert items carry the pump's label and patient, so pump changes touch the items of those pumps
    if (changes.alerts || changes.all) panel.render();
    else if (changes.pumps.size > 0) panel.refreshPumps(changes.pumps);
    if (detail && (changes.all || changes.alerts || changes.pumps.has(detail.pump))) detail.showPump(store.pumps.get(detail.pump));
  });

  const onMessage = (msg: ServerMessage): void => {
    if (msg.type === 'alert') {
      const prev = store.alerts.get(msg.alert.id);
      const p = store.pumps.get(msg.alert.pump);
      const name = p ? pumpName(p) : msg.alert.pump;
      if (!prev) announcer.say(alertSentence(msg.alert, name), msg.alert.severity === 'high');
      else if (!prev.acknowledged && msg.alert.acknowledged) announcer.say(`${alertTypeText(msg.alert.type)} on ${name}: ${ackText(msg.alert)}`, false);
    }
    for (const a of store.apply(msg)) {
      const p = store.pumps.get(a.pump);
      announcer.alarm(a, p ? pumpName(p) : a.pump);
    }
    // a resynchronisation is shown at once; alerts and pump updates in the next batch (at most
    // four renders a second, however many alerts arrive; sound, notification and the spoken
    // alert above are not delayed)
    if (msg.type === 'snapshot') loop.requestNow();
    else loop.request();
  };

  const live = canSeePumps ? new LiveConnection({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${routeUrl('live')}`,
    onMessage,
    onStatus: setBanner,
    stillAuthorised: async () => (await fetchMe()) !== null,
    onUnauthorised: () => showLogin(SESSION_ENDED),
    probe: () => serverReachable(),
  }) : null;

  const soundButton = el('button', { type: 'button', class: 'sound' });
  const updateSoundButton = (): void => setText(soundButton, announcer.soundBlocked ? 'Turn on sound & notifications' : 'Sound on');
  soundButton.addEventListener('click', () => { announcer.enableSound(); setTimeout(updateSoundButton, 100); });
  updateSoundButton();
  // pages on this phone or computer when the board is closed (hidden without Web Push)
  const push = canSeePumps ? new PushControl() : null;
  const logoutButton = el('button', { type: 'button' }, 'Log out');
  logoutButton.addEventListener('click', () => { void logout().catch(() => undefined).finally(() => showLogin()); });
  const nav = el('nav', { 'aria-label': 'Views' },
    canSeePumps && el('a', { href: '#/board' }, 'Pumps'),
    canBill && el('a', { href: '#/billing' }, 'Billing'),
    canManageRecords && el('a', { href: '#/records', class: 'clinical-only' }, 'Patients & orders'),
    el('a', { href: '#/oncall' }, 'On call'));
  const header = el('header', { class: 'top' },
    el('h1', {}, 'pumpwatch'), nav,
    el('span', { class: 'who' }, `${me.username} (${me.role})`),
    canSeePumps && soundButton, push?.root, logoutButton);
  const layout = el('div', { class: canSeePumps ? 'layout with-alerts' : 'layout' }, canSeePumps && panel.root, view);
  app.replaceChildren(header, dbBanner, layout);

  const route = (): void => {
    detail?.stop();
    detail = null;
    const hash = location.hash;
    // on a phone the on-call page comes before the alerts (else it is below every open alert)
    document.body.classList.toggle('view-oncall', hash === '#/oncall');
    const pumpMatch = /^#\/pump\/(.+)$/.exec(hash);
    if (pumpMatch && canSeePumps) {
      detail = new PumpDetail(decodeURIComponent(pumpMatch[1]!), (p) => onMessage({ type: 'pump', pump: p }));
      detail.serverZone = store.serverZone;
      const shown = detail.pump;
      detail.mismatchAlert = () => [...store.alerts.values()].find((a) => a.pump === shown && a.type === 'program_mismatch' && a.status === 'active');
      detail.liveAlerts = () => [...store.alerts.values()].filter((a) => a.pump === shown);
      view.replaceChildren(detail.root);
      detail.showPump(store.pumps.get(detail.pump));
      void detail.load();
      detail.root.querySelector('h2')?.focus();
    } else if (hash === '#/oncall') {
      // everyone sees who is on call; an admin edits the rota (reloaded on every visit: it changes)
      onCall ??= new OnCallView(me.timeZone ?? null, me.username, me.role === 'admin');
      view.replaceChildren(onCall.root);
      void onCall.load();
      onCall.root.querySelector('h2')?.focus();
    } else if ((hash === '#/records' || (!canSeePumps && !canBill)) && canManageRecords) {
      if (!records) {
        records = new RecordsView(() => { void database.checkNow(); });
        records.setDatabase(database.state);
        void records.load();
      }
      view.replaceChildren(records.root);
    } else if ((hash === '#/billing' || !canSeePumps) && canBill) {
      billing ??= new BillingView();
      view.replaceChildren(billing.root);
      void billing.load();
    } else {
      view.replaceChildren(board.root);
    }
  };
  window.addEventListener('hashchange', route);
  let ticks = 0;
  const tick = setInterval(() => { store.touchSlice(ticks++ % AGE_SLICES, AGE_SLICES); loop.request(); }, AGE_TICK_MS);
  route();
  live?.start();
  database.start();
  void push?.start();
  if (!live) { banner.hidden = true; document.body.classList.remove('stale'); }

  session = {
    me,
    stop() {
      live?.stop();
      database.stop();
      loop.stop();
      clearInterval(tick);
      detail?.stop();
      window.removeEventListener('hashchange', route);
    },
  };
  // exposed for the browser tests and the bench
  (window as unknown as { pumpwatch: unknown }).pumpwatch = { store, board, live, loop };
}

const SESSION_ENDED = 'Your session has ended (the server may have restarted). Log in again to see live data.';
onSessionLost(() => { if (session) showLogin(SESSION_ENDED); });

/** Until the server answers, say so and keep trying: never an empty page that looks fine. */
function boot(attempt = 0): void {
  fetchMe().then((me) => (me ? startSession(me) : showLogin()), () => {
    app.replaceChildren(el('p', { role: 'alert', class: 'loading' }, 'Cannot reach the pumpwatch server — retrying…'));
    setTimeout(() => boot(attempt + 1), Math.min(10_000, 1000 * 2 ** attempt));
  });
}
boot();
