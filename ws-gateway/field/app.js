// The field page: the worker's state and what changes it. State comes from the
// server (welcome, snapshot, task events, my_tasks, my_visits) and from the worker's
// taps, which become requests through link.js; view.js draws it. What the worker is
// typing lives in drafts (localStorage), so a redraw or a reload loses nothing; so
// does the visit in progress, which the server's lists do not show.

import { t, tc, getLang, setLang } from './i18n.js';
import { Link } from './link.js';
import { Geo } from './geo.js';
import { createView } from './view.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

// --- state --------------------------------------------------------------------------

const state = {
  view: 'login',             // login | work
  conn: { state: 'connecting', queued: 0 },
  offsetMs: 0,               // server clock minus ours
  me: null,                  // the worker record from the snapshot
  name: '',
  tasks: new Map(),          // assignment id -> {assignment, incident, elder}
  ended: new Map(),          // assignment id -> 'expired' | 'withdrawn', until dismissed
  pending: new Map(),        // assignment id -> {type, queued, req}
  dutyPending: null,         // {on, queued}
  declining: null,           // assignment id whose decline reasons are open
  geoState: 'off',
  lastPos: null,             // {lat, lon, accuracy_m, at_ms, manual}
  mode: localStorage.getItem('anxin.mode'),
  notices: [],               // {id, kind, text}
  tab: localStorage.getItem('anxin.tab') === 'visits' ? 'visits' : 'tasks',
  // Today's visits (docs/visits.md): the server's list as it came, in its order.
  // hazards: the open hazards the worker owns (null before the first list, or from an
  // older server that does not send them).
  visits: { items: null, hazards: null, date: '', at: 0, loading: false, error: null },
  // {visit_id, elder_id, name, address, phone, mode, distance_m, flags, started_ms};
  // one taken from the server's list (fromServer) has no mode, distance or flags.
  openVisit: null,
  visitResult: null,         // the last finish_visit's reply, with the elder's name
  visitPending: null,        // {kind: 'start', elder_id} | {kind: 'finish'}
  consentAsk: null,          // {elder_id, message}: home refused for want of consent
  // Closing a hazard (隐患销号): the one whose note form is open, the one being sent, the
  // one refused for want of a note, and the last refusal {hazard_id, err}.
  hazardClosing: null, hazardPending: null, hazardNeedNote: null, hazardError: null,
};
const serverNow = () => Date.now() + state.offsetMs;
const mine = (a) => state.me && a.worker_id === state.me.id;
const LIVE = new Set(['offered', 'accepted', 'on_scene']);

// ?ws= overrides the socket (a page served apart from the server); ?token= starts
// with a session opened elsewhere (a test's, or a login made by another client).
const wsUrl = params.get('ws') || `${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/`;
if (params.get('token')) {
  localStorage.setItem('anxin.session', params.get('token'));
  params.delete('token');
  history.replaceState(null, '', location.pathname + (params.size ? `?${params}` : ''));
}

const link = new Link(wsUrl, {
  status: (s) => { state.conn = s; renderBanner(); },
  needLogin: (why) => {
    state.view = 'login';
    if (why === 'expired') showLoginError(t('session_expired'));
    render();
  },
  ready: onWelcome,
  message: onMessage,
  sent: onQueuedSent,
});

const geo = new Geo((fix) => sendPosition({ ...fix, at_ms: fix.at_ms + state.offsetMs }),
  (s) => { state.geoState = s; renderDuty(); });

// --- from the server ----------------------------------------------------------------

async function onWelcome(welcome) {
  state.offsetMs = welcome.server_time_ms - Date.now();
  state.name = welcome.user?.name || state.name;
  state.view = 'work';
  render();
  const snap = await link.request({ type: 'subscribe' });
  applySnapshot(snap);
  // Actions queued offline that the server has already applied are not sent twice.
  await link.flush((frame) => stillApplies(frame));
  refreshMyTasks();
  loadOpenVisit();
  if (state.openVisit) state.tab = 'visits';
  if (state.tab === 'visits') refreshVisits();
  render();
}

function applySnapshot(snap) {
  state.offsetMs = snap.server_time_ms - Date.now();
  state.me = snap.workers?.[0] || state.me;
  if (state.me) {
    state.name = state.name || state.me.name;
    if (!state.mode) state.mode = state.me.mode;
    if (state.me.position_ms && !state.lastPos) {
      state.lastPos = { lat: state.me.lat, lon: state.me.lon, accuracy_m: state.me.accuracy_m,
        at_ms: state.me.position_ms, manual: true, fromServer: true };
    }
  }
  const elders = new Map((snap.elders || []).map((e) => [e.id, e]));
  for (const inc of snap.incidents || []) {
    for (const a of inc.assignments || []) {
      if (mine(a)) putTask(a, inc, elders.get(inc.elder_id));
    }
  }
  // A live task the snapshot no longer holds has ended while we were away.
  const open = new Set((snap.incidents || []).flatMap((i) => (i.assignments || []).map((a) => a.id)));
  for (const [id, task] of state.tasks) {
    if (LIVE.has(task.assignment.state) && !open.has(id)) {
      if (task.assignment.state === 'offered') state.ended.set(id, 'withdrawn');
      task.assignment.state = 'cancelled';
    }
  }
  followDuty();
  render();
}

function putTask(assignment, incident, elder) {
  const old = state.tasks.get(assignment.id);
  // An offer on screen that lapsed or was withdrawn while we were away says so.
  if (old?.assignment.state === 'offered' && assignment.state === 'expired') state.ended.set(assignment.id, 'expired');
  if (old?.assignment.state === 'offered' && assignment.state === 'cancelled') state.ended.set(assignment.id, 'withdrawn');
  state.tasks.set(assignment.id, { assignment, incident: incident || old?.incident, elder: elder || old?.elder });
}

async function refreshMyTasks() {
  try {
    const r = await link.request({ type: 'my_tasks' });
    for (const x of r.tasks || []) if (!state.tasks.has(x.assignment.id) || !LIVE.has(x.assignment.state)) {
      putTask(x.assignment, x.incident, x.elder);
    }
    renderTasks();
  } catch { /* an older server without my_tasks: the list holds what this page has seen */ }
}

function onMessage(m) {
  if (m.type === 'task') onTask(m);
  else if (m.type === 'visits_changed') visitsChanged();
}

function onTask(m) {
  const a = m.assignment;
  const before = state.tasks.get(a.id)?.assignment.state;
  putTask(a, m.incident, m.elder);
  if (a.state === 'cancelled' && (before === 'accepted' || before === 'on_scene')) {
    // The incident was closed while the worker was on the way or there.
    const who = m.elder?.name || '';
    notice('warn', () => t('task_cancelled', who));
  }
  if (m.event === 'offer') {
    state.ended.delete(a.id);
    alertWorker();
    window.scrollTo(0, 0);
  } else if (m.event === 'offer_expired') {
    state.ended.set(a.id, 'expired');
  } else if (m.event === 'offer_withdrawn') {
    state.ended.set(a.id, 'withdrawn');
  }
  if (state.me) state.me.status = workerStatusFor(a.state, state.me.status);
  render();
}

function workerStatusFor(assignmentState, current) {
  return { offered: 'offered', accepted: 'en_route', on_scene: 'on_scene' }[assignmentState] ||
    (current === 'off_duty' ? 'off_duty' : 'available');
}

// Whether an action queued offline still needs sending, given the fresh snapshot.
function stillApplies(frame) {
  const task = state.tasks.get(frame.assignment_id);
  const s = task?.assignment.state;
  switch (frame.type) {
    case 'accept': return !['accepted', 'on_scene', 'completed'].includes(s);
    case 'on_scene': return !['on_scene', 'completed'].includes(s);
    case 'complete': return s !== 'completed';
    case 'decline': return s !== 'declined';
    default: return true;
  }
}

// --- the worker's actions -----------------------------------------------------------

// "接单未成功：派单已超时或已撤回（assignment 3 is expired, E_BAD_STATE）": what failed,
// why in the worker's words (for this action if there are such), and the server's own.
function failure(type, err) {
  const specific = `${type}:${err.code}`;
  const why = tc(specific) !== specific ? tc(specific) : tc(err.code);
  return t('failed', [t(`act_${type}`), why, [err.message, err.code].filter(Boolean).join(', ')]);
}

function act(frame, onOk) {
  const p = link.request(frame);
  const queued = state.conn.state !== 'ready';
  if (frame.assignment_id) state.pending.set(frame.assignment_id, { type: frame.type, queued });
  render();
  p.then((reply) => {
    state.pending.delete(frame.assignment_id);
    if (!reply?.skipped && onOk) onOk(reply);
    render();
  }, (err) => {
    state.pending.delete(frame.assignment_id);
    notice('error', () => failure(frame.type, err));
    render();
  });
}

// Replies to actions queued before a reload, whose promises are gone.
function onQueuedSent(item, reply, error) {
  if (link.waiters?.has(item.frame.req)) return;
  if (error) notice('error', () => failure(item.frame.type, error));
}

function accept(id) {
  act({ type: 'accept', assignment_id: id }, () => setState(id, 'accepted'));
}

function decline(id, reason) {
  state.declining = null;
  state.declineText = '';
  act({ type: 'decline', assignment_id: id, reason }, () => { setState(id, 'declined'); state.ended.delete(id); });
}

function arrive(id) {
  act({ type: 'on_scene', assignment_id: id }, () => setState(id, 'on_scene'));
}

function complete(id) {
  const d = draft(id);
  if (!d.outcome?.trim()) {
    state.needOutcome = id;
    renderTask();
    document.querySelector('.complete textarea[name="outcome"]')?.focus();
    return;
  }
  state.needOutcome = null;
  act({ type: 'complete', assignment_id: id, outcome: d.outcome.trim(),
    report: { areas: d.areas || [], notes: (d.notes || '').trim(), hazards: (d.hazards || '').trim() } },
  () => {
    setState(id, 'completed');
    localStorage.removeItem(`anxin.draft.${id}`);
    notice('info', () => t('completed_ok'));
    window.scrollTo(0, 0);
    refreshMyTasks();
  });
}

function setState(id, s) {
  const task = state.tasks.get(id);
  if (task && task.assignment.state !== s && !['completed', 'declined'].includes(task.assignment.state)) {
    task.assignment.state = s;
  }
  if (state.me) state.me.status = workerStatusFor(s, state.me.status);
}

function setDuty(on) {
  state.dutyPending = { on, queued: state.conn.state !== 'ready' };
  render();
  link.request({ type: 'duty', on }).then(() => {
    state.dutyPending = null;
    if (state.me) state.me.status = on ? (state.me.status === 'off_duty' ? 'available' : state.me.status) : 'off_duty';
    followDuty();
    render();
  }, (err) => {
    state.dutyPending = null;
    notice('error', () => failure('duty', err));
    render();
  });
}

const onDuty = () => (state.dutyPending ? state.dutyPending.on : state.me && state.me.status !== 'off_duty');

// Geolocation runs only while on duty.
function followDuty() { onDuty() ? geo.start() : geo.stop(); }

function sendPosition(pos, manual = false) {
  state.lastPos = { ...pos, manual };
  const frame = { type: 'position', lat: pos.lat, lon: pos.lon, accuracy_m: pos.accuracy_m, at_ms: pos.at_ms };
  if (state.mode) frame.mode = state.mode;
  link.request(frame).catch((err) => notice('error', () => failure('position', err)));
  renderDuty();
}

function setMode(mode) {
  state.mode = mode;
  localStorage.setItem('anxin.mode', mode);
  // The same fix again with the new mode: the server takes a position of equal age.
  // One only read back from the server goes with the next fix instead.
  if (state.lastPos && !state.lastPos.fromServer) sendPosition(state.lastPos, state.lastPos.manual);
  renderDuty();
}


// --- today's visits (docs/visits.md) ---------------------------------------------------

function setTab(tab) {
  state.tab = tab;
  localStorage.setItem('anxin.tab', tab);
  render();
  // Opening the list asks for it again: it changes with the clock and the position.
  if (tab === 'visits') refreshVisits();
}

// The position for a list: a recent fix, else the last one sent (the server falls
// back to the last it knows when there is none).
async function listPosition() {
  const fix = await geo.once(3000, 120000);
  if (fix) return fix;
  return state.lastPos;
}

// The position for a visit's start or finish: a fix of this moment when the browser
// gives one, else the worker's own last position (GPS or typed), never the server's
// copy of an old one.
async function visitPosition() {
  const fix = await geo.once(10000, 30000);
  if (fix) return fix;
  const p = state.lastPos;
  return p && !p.fromServer ? p : null;
}

let visitsBusy = false, visitsAgain = false, visitsTimer = null;
async function refreshVisits() {
  if (state.view !== 'work') return;
  if (visitsBusy) { visitsAgain = true; return; }
  visitsBusy = true;
  state.visits.loading = true;
  renderVisits();
  try {
    const pos = await listPosition();
    const frame = { type: 'my_visits' };
    if (pos) Object.assign(frame, { lat: pos.lat, lon: pos.lon });
    const sentAt = Date.now();
    const r = await link.request(frame);
    state.visits = { items: r.visits || [], hazards: Array.isArray(r.hazards) ? r.hazards : null,
      date: r.date || '', at: Date.now(), loading: false, error: null };
    followServerVisit(r, sentAt);
  } catch (err) {
    // Shown in the list's place, in words, until the next try.
    state.visits.loading = false;
    state.visits.error = err;
  } finally {
    visitsBusy = false;
    renderVisits();
    if (visitsAgain) { visitsAgain = false; refreshVisits(); }
  }
}

// The server says the programme changed (anyone's visit or call): ask again, once
// for a burst, and only while the list is in view; otherwise when it is opened.
function visitsChanged() {
  if (state.tab !== 'visits') return;
  clearTimeout(visitsTimer);
  visitsTimer = setTimeout(refreshVisits, 400);
}

// The server's list says which visits the worker has begun and not finished
// (open_visit_id, started_ms), whichever phone began them. With no visit open here, the
// first of them is shown to finish: begun on another phone, or before this page's
// storage was lost. A visit open here that the server's list shows as no longer open
// (finished on another phone) is let go; its draft with it.
// A reply to a request sent before this page began or finished a visit is not taken
// as news about that visit.
const finishedHere = new Set();
function followServerVisit(reply, sentAt) {
  const items = reply.visits || [];
  const o = state.openVisit;
  if (o && !state.visitPending && o.started_ms && o.started_ms < sentAt) {
    const item = items.find((i) => i.elder_id === o.elder_id);
    // Only a server that reports open visits at all (it sends hazards with them) is believed.
    if (item && Array.isArray(reply.hazards) && item.open_visit_id !== o.visit_id) {
      localStorage.removeItem(`anxin.vdraft.${o.visit_id}`);
      state.openVisit = null;
      saveOpenVisit();
      if (!item.open_visit_id) notice('warn', () => t('visit_closed_elsewhere', o.name || ''));
    }
  }
  if (state.openVisit || state.visitPending) return;
  const item = items.find((i) => i.open_visit_id && !finishedHere.has(i.open_visit_id));
  if (!item) return;
  state.openVisit = { visit_id: item.open_visit_id, elder_id: item.elder_id, name: item.name, address: item.address,
    phone: item.phone, started_ms: item.started_ms ? item.started_ms - state.offsetMs : null, flags: [],
    fromServer: true };
  state.visitResult = null;
  saveOpenVisit();
}

const OPEN_VISIT_KEY = 'anxin.visit';
function loadOpenVisit() {
  const saved = JSON.parse(localStorage.getItem(OPEN_VISIT_KEY) || 'null');
  // A visit left open by someone else on this phone is not this worker's to finish.
  state.openVisit = saved && saved.subject === link.subject ? saved.visit : null;
}
function saveOpenVisit() {
  if (state.openVisit) localStorage.setItem(OPEN_VISIT_KEY, JSON.stringify({ subject: link.subject, visit: state.openVisit }));
  else localStorage.removeItem(OPEN_VISIT_KEY);
}

async function startVisit(item, mode) {
  if (state.visitPending) return;
  if (state.openVisit) { notice('warn', () => t('one_at_a_time')); return; }
  mode ??= item.mode === 'encounter' ? 'encounter' : 'home';
  state.visitPending = { kind: 'start', elder_id: item.elder_id };
  state.consentAsk = null;
  state.visitResult = null;
  renderVisits();
  try {
    const pos = await visitPosition();
    if (!pos) throw { code: 'NO_POSITION' };
    const r = await link.request({ type: 'start_visit', elder_id: item.elder_id, lat: pos.lat, lon: pos.lon, mode });
    state.openVisit = { visit_id: r.visit_id, elder_id: r.elder_id, name: item.name, address: item.address,
      phone: item.phone, mode, distance_m: r.distance_m, flags: r.flags || [], started_ms: Date.now() };
    saveOpenVisit();
  } catch (err) {
    if (err.code === 'NO_POSITION') {
      notice('error', () => t('need_pos'));
      $('manual-pos').scrollIntoView({ block: 'center' });
    } else if (err.code === 'E_BAD_STATE' && mode === 'home') {
      // 000 二.(四)2: no consent to visits at home. Say so, and offer one at the door.
      state.consentAsk = { elder_id: item.elder_id, message: err.message || '' };
    } else {
      notice('error', () => failure('start_visit', err));
    }
  } finally {
    state.visitPending = null;
    renderVisits();
  }
  if (state.openVisit) {
    $('visit-open').scrollIntoView({ block: 'start' });
    refreshVisits();
  }
}

function vdraft(id) { return JSON.parse(localStorage.getItem(`anxin.vdraft.${id}`) || '{}'); }
function saveVdraft(id, patch) { localStorage.setItem(`anxin.vdraft.${id}`, JSON.stringify({ ...vdraft(id), ...patch })); }

async function finishVisit() {
  const v = state.openVisit;
  if (!v || state.visitPending) return;
  const d = vdraft(v.visit_id);
  state.visitPending = { kind: 'finish' };
  renderVisits();
  let done = false;
  try {
    const pos = await visitPosition();
    if (!pos) throw { code: 'NO_POSITION' };
    const hazards = (d.hazards || []).filter((z) => z.text?.trim())
      .map((z) => ({ area: z.area || 'home_safety', text: z.text.trim() }));
    const r = await link.request({ type: 'finish_visit', visit_id: v.visit_id, lat: pos.lat, lon: pos.lon,
      areas: d.areas || [], notes: (d.notes || '').trim(), hazards });
    state.visitResult = { ...r, name: v.name };
    done = true;
  } catch (err) {
    if (err.code === 'NO_POSITION') {
      notice('error', () => t('need_pos'));
      $('manual-pos').scrollIntoView({ block: 'center' });
    } else {
      notice('error', () => failure('finish_visit', err));
      // Already finished (a reply lost on the way), or not a visit the server knows:
      // nothing is left to finish here.
      done = err.code === 'E_BAD_STATE' || (err.code === 'E_BAD_FIELD' && /^no visit /.test(err.message || ''));
    }
  } finally {
    state.visitPending = null;
    if (done) {
      finishedHere.add(v.visit_id);
      localStorage.removeItem(`anxin.vdraft.${v.visit_id}`);
      state.openVisit = null;
      saveOpenVisit();
    }
    renderVisits();
  }
  if (done) {
    $('visits-card').scrollIntoView({ block: 'start' });
    refreshVisits();
  }
}

// 隐患销号: closing one of the worker's open hazards, with a note of what was done
// (required: the page refuses without one, as the server would). Not queued offline.
function hnote(id) { return localStorage.getItem(`anxin.hnote.${id}`) || ''; }
function saveHnote(id, text) {
  if (text) localStorage.setItem(`anxin.hnote.${id}`, text);
  else localStorage.removeItem(`anxin.hnote.${id}`);
}

function askCloseHazard(id) {
  state.hazardClosing = id;
  state.hazardNeedNote = null;
  state.hazardError = null;
  renderVisits();
}

function cancelCloseHazard() {
  state.hazardClosing = null;
  state.hazardNeedNote = null;
  state.hazardError = null;
  renderVisits();
}

async function closeHazard(id) {
  if (state.hazardPending) return;
  const note = hnote(id).trim();
  if (!note) {
    state.hazardNeedNote = id;
    state.hazardError = null;
    renderVisits();
    document.querySelector(`.hazard-item[data-hazard-id="${id}"] textarea`)?.focus();
    return;
  }
  state.hazardNeedNote = null;
  state.hazardError = null;
  state.hazardPending = id;
  renderVisits();
  let gone = false;
  try {
    await link.request({ type: 'close_hazard', hazard_id: id, note });
    gone = true;
    notice('info', () => t('hazard_closed_ok'));
  } catch (err) {
    // Closed already (by the centre, or a reply lost on the way): it leaves the list,
    // and a notice says why. Any other refusal is shown on the hazard, the note kept.
    gone = err.code === 'E_BAD_STATE';
    if (gone) notice('error', () => failure('close_hazard', err));
    else state.hazardError = { hazard_id: id, err };
  } finally {
    state.hazardPending = null;
    if (gone) {
      saveHnote(id, '');
      if (state.hazardClosing === id) state.hazardClosing = null;
      // Off the list at once; the server's list confirms it.
      if (state.visits.hazards) state.visits.hazards = state.visits.hazards.filter((z) => z.hazard_id !== id);
    }
    renderVisits();
  }
  if (gone) refreshVisits();
}

const { render, renderBanner, renderNotices, renderTask, renderDuty, renderTasks, renderVisits, tickCountdowns,
  showLoginError } =
  createView({ state, serverNow, mine, onDuty, draft, saveDraft, live: LIVE, reconnectNow: () => link.reconnectNow(),
    accept, decline, arrive, complete, sendPosition,
    setTab, refreshVisits, startVisit, finishVisit, vdraft, saveVdraft,
    askCloseHazard, cancelCloseHazard, closeHazard, hnote, saveHnote, failure });

// Once a second: the countdowns, the offer's sound again while one runs, the age of
// the position, and the banner's seconds to the next try.
setInterval(() => {
  if (state.view === 'work') {
    if (tickCountdowns() && Date.now() - lastAlertMs > 6000) alertWorker();
    renderDuty();
  }
  if (state.conn.state === 'offline') renderBanner();
}, 1000);

// --- sound, vibration, notices ------------------------------------------------------

// Browsers let a page make sound (and vibrate) only after a tap on it: until the
// first tap, e.g. after a reload, the page asks for one.
let audio = null;
document.addEventListener('pointerdown', () => {
  audio ??= new (window.AudioContext || window.webkitAudioContext)();
  if (audio.state === 'suspended') audio.resume();
  // Not at once: the tap's click must land where the finger went down.
  setTimeout(() => { $('sound').hidden = true; }, 500);
}, { capture: true });
$('sound').addEventListener('click', () => beep());

function beep() {
  if (!audio) return;
  const t0 = audio.currentTime;
  for (let i = 0; i < 3; i++) {
    const o = audio.createOscillator(), g = audio.createGain();
    o.type = 'square';
    o.frequency.value = i === 1 ? 1175 : 880;
    g.gain.setValueAtTime(0.0001, t0 + i * 0.25);
    g.gain.exponentialRampToValueAtTime(0.3, t0 + i * 0.25 + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.25 + 0.2);
    o.connect(g).connect(audio.destination);
    o.start(t0 + i * 0.25);
    o.stop(t0 + i * 0.25 + 0.22);
  }
}

let lastAlertMs = 0;
function alertWorker() {
  lastAlertMs = Date.now();
  beep();
  navigator.vibrate?.([400, 200, 400, 200, 400]);
}

let noticeCount = 0;
// Errors stay until dismissed; good news goes by itself. text() is asked again on
// each redraw, so a notice follows a change of language.
function notice(kind, text) {
  const id = ++noticeCount;
  state.notices.push({ id, kind, text });
  renderNotices();
  if (kind === 'info') setTimeout(() => { state.notices = state.notices.filter((n) => n.id !== id); renderNotices(); }, 8000);
}

// --- drafts -------------------------------------------------------------------------

function draft(id) { return JSON.parse(localStorage.getItem(`anxin.draft.${id}`) || '{}'); }
function saveDraft(id, patch) { localStorage.setItem(`anxin.draft.${id}`, JSON.stringify({ ...draft(id), ...patch })); }

// --- wiring -------------------------------------------------------------------------

$('lang').addEventListener('click', () => { setLang(getLang() === 'en' ? 'zh' : 'en'); render(); });
$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  showLoginError('');
  const button = $('login-button');
  button.disabled = true;
  button.textContent = t('logging_in');
  try {
    await link.login($('username').value.trim(), $('password').value);
    $('password').value = '';
  } catch (err) {
    // A throttled login says how long to wait: "… try again in 8 s".
    const wait = err.code === 'E_THROTTLED' && /in (\d+) s/.exec(err.message || '');
    showLoginError(err.code === 'E_AUTH_FAILED' ? t('login_failed')
      : `${tc(err.code)}${wait ? ` (${wait[1]} s)` : ''} (${err.code})`);
  } finally {
    button.disabled = false;
    button.textContent = t('login');
  }
});
$('duty').addEventListener('click', () => { if (!state.dutyPending) setDuty(!onDuty()); });
$('mode').addEventListener('click', (ev) => { if (ev.target.dataset.mode) setMode(ev.target.dataset.mode); });
$('tabs').addEventListener('click', (ev) => {
  const tab = ev.target.closest('[data-tab]')?.dataset.tab;
  if (tab) setTab(tab);
});
$('visits-refresh').addEventListener('click', () => refreshVisits());
$('manual-pos').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const lat = Number($('lat').value), lon = Number($('lon').value);
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return;
  sendPosition({ lat, lon, accuracy_m: 100, at_ms: serverNow() }, true);
});
$('logout').addEventListener('click', () => {
  geo.stop();
  // link.logout() clears the saved session before its first await: the login form
  // never shows while a session is still stored.
  link.logout();
  Object.assign(state, { view: 'login', me: null, name: '', tasks: new Map(), ended: new Map(), pending: new Map(),
    lastPos: null, notices: [], visits: { items: null, hazards: null, date: '', at: 0, loading: false, error: null },
    openVisit: null, visitResult: null, consentAsk: null,
    hazardClosing: null, hazardPending: null, hazardNeedNote: null, hazardError: null });
  render();
});

// With a session the worker sees their (empty, until the snapshot) work view at once;
// without, the login form, to fill in while the socket connects.
state.view = link.session ? 'work' : 'login';
render();
link.start();
