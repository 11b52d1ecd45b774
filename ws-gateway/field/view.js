// The field page's rendering: builds the parts of the page from the state that
// app.js keeps, and turns taps into calls of app.js's actions (ctx). It keeps only
// view state of its own (which decline panel is open, what is typed there).

import { t, tc, reasonText, getLang, ago, distanceText, etaText, dayText, planText, AREAS, DECLINE_REASONS } from './i18n.js';

const $ = (id) => document.getElementById(id);

// h('div.card', {onclick}, child, ...): a small element builder.
function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'value' || (k in el && typeof v !== 'string')) el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

// ctx: { state, serverNow, mine, onDuty, draft, saveDraft, live, reconnectNow, vdraft,
// saveVdraft, hnote, saveHnote, failure, and the actions accept, decline, arrive, complete,
// sendPosition, setTab, refreshVisits, startVisit, finishVisit, askCloseHazard,
// cancelCloseHazard, closeHazard }
export function createView(ctx) {
  const { state, serverNow, mine, onDuty, draft, saveDraft } = ctx;
  const LIVE = ctx.live;

  function alertKind(incident) {
    const r = incident?.rank?.reasons?.find((x) => x.code.startsWith('kind:'));
    if (r) return r.code;
    const a = incident?.timeline?.find((e) => e.kind === 'alert');
    return a ? `kind:${a.alert_kind}` : '';
  }

  function elderLine(e) {
    if (!e) return '';
    return [e.name, t(e.sex === 'female' ? 'female' : 'male'), t('age', e.age)].join(' · ');
  }

  // What a visitor should know before the door opens.
  function elderTags(e) {
    if (!e) return null;
    const tags = [tc(`living:${e.living}`)];
    if (e.ability && e.ability !== 'intact') tags.push(tc(`ability:${e.ability}`));
    if (e.dementia) tags.push(tc('dementia'));
    if (e.disability_grade) tags.push(t('disability', e.disability_grade));
    const el = h('div.reasons', {}, ...tags.map((x) => h('span.chip', { text: x })));
    if (!e.visit_consent) el.append(h('span.chip.warn', { text: tc('no_consent') }));
    return el;
  }

  function render() {
    document.title = t('title');
    for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
    $('lang').textContent = t('lang_other');
    $('login-view').hidden = state.view !== 'login';
    $('work-view').hidden = state.view !== 'work';
    $('who').textContent = state.view === 'work' ? state.name : '';
    renderBanner();
    renderNotices();
    if (state.view !== 'work') return;
    renderOffer();
    renderTask();
    renderDuty();
    renderTasks();
    renderVisits();
  }

  function renderBanner() {
    const c = state.conn, b = $('banner');
    let text = '', kind = 'info';
    if (c.state === 'offline') {
      kind = 'down';
      const s = Math.max(0, Math.ceil((c.retryAt - Date.now()) / 1000));
      text = `${t('offline')} · ${s > 0 ? t('reconnecting_in', s) : t('reconnecting')}`;
    } else if (c.state === 'connecting' || (c.state === 'authenticating' && state.view === 'work')) {
      kind = state.view === 'work' ? 'down' : 'info';
      text = state.view === 'work' ? t('reconnecting') : t('connecting');
    }
    if (c.queued && state.view === 'work') text += `${text ? ' · ' : ''}${t('queued', c.queued)}`;
    b.hidden = !text;
    b.className = `banner ${kind}`;
    b.textContent = text;
    if (c.state === 'offline') {
      b.append(' ', h('button.linkish', { type: 'button', text: t('reconnect_now'), onclick: ctx.reconnectNow }));
    }
  }

  function renderNotices() {
    $('notices').replaceChildren(...state.notices.map((n) => h(`div.notice.${n.kind}`, { role: 'alert' },
      h('span', { text: n.text() }),
      h('button.close', { type: 'button', 'aria-label': t('dismiss'), text: '×',
        onclick: () => { state.notices = state.notices.filter((x) => x.id !== n.id); renderNotices(); } }))));
  }

  function offerTasks() {
    return [...state.tasks.values()].filter((x) => mine(x.assignment) &&
      (x.assignment.state === 'offered' || state.ended.has(x.assignment.id)));
  }

  function renderOffer() {
    const box = $('offer');
    box.replaceChildren(...offerTasks().map(offerCard));
    tickCountdowns();
  }

  function offerCard({ assignment: a, incident, elder }) {
    const ended = state.ended.get(a.id);
    const pend = state.pending.get(a.id);
    const kind = alertKind(incident);
    const head = ended
      ? h('div.offer-head.ended', {}, h('div.big', { text: t(ended === 'expired' ? 'offer_expired' : 'offer_withdrawn') }),
        h('div', { text: t(ended === 'expired' ? 'offer_expired_hint' : 'offer_withdrawn_hint') }))
      : h('div.offer-head', {}, h('div.kicker', { text: t('new_task') }), h('div.big', { text: tc(kind) }));
    const facts = h('div.facts', {},
      h('div', {}, h('div.fact-label', { text: t('distance') }), h('div.fact', { text: distanceText(a.distance_m) })),
      h('div', {}, h('div.fact-label', { text: t('eta') }), h('div.fact', { text: etaText(a.eta_s) })));
    const reasons = (incident?.rank?.reasons || []).filter((r) => !r.code.startsWith('kind:'));
    let actions;
    if (ended) {
      actions = h('button.btn.block', { type: 'button', text: t('dismiss'),
        onclick: () => { state.ended.delete(a.id); render(); } });
    } else if (pend) {
      actions = h('p.pending', { text: pend.queued ? t('queued_one', t(`act_${pend.type}`)) : '…' });
    } else if (state.declining === a.id) {
      actions = declinePanel(a.id);
    } else {
      actions = h('div.two', {},
        h('button.btn.decline', { type: 'button', text: t('decline'), onclick: () => { state.declining = a.id; render(); } }),
        h('button.btn.accept', { type: 'button', text: t('accept'), onclick: () => ctx.accept(a.id) }));
    }
    return h(`section.card.offer${ended ? '.is-ended' : ''}`, { 'data-assignment': a.id, 'data-state': ended || a.state },
      head,
      h('div.elder', { text: elderLine(elder) }),
      h('div.address', { text: elder?.address || '' }),
      facts,
      reasons.length ? h('div.reasons', {}, h('span.label', { text: t('reasons') }),
        ...reasons.map((r) => h('span.chip', { text: reasonText(r.code) }))) : null,
      ended ? null : h('div.countdown', { 'data-expires': a.expires_ms },
        h('div.count-text'), h('div.count-bar', {}, h('div.count-fill'))),
      actions);
  }

  function declinePanel(id) {
    const other = h('input', { id: 'decline-other', placeholder: t('decline_other'), 'aria-label': t('decline_other'),
      value: state.declineText || '', oninput: (ev) => { state.declineText = ev.target.value; } });
    return h('div.decline-panel', {},
      h('div.label', { text: t('decline_title') }),
      ...DECLINE_REASONS.map((r) => h('button.btn.block.reason', { type: 'button', text: tc(`decline:${r}`),
        onclick: () => ctx.decline(id, tc(`decline:${r}`, 'zh')) })),
      other,
      h('div.two', {},
        h('button.btn', { type: 'button', text: t('back'), onclick: () => { state.declining = null; render(); } }),
        h('button.btn.decline', { type: 'button', text: t('decline_send'),
          onclick: () => ctx.decline(id, other.value.trim() || t('decline_other')) })));
  }

  // The offers' countdowns, once a second; whether one is still running.
  function tickCountdowns() {
    let live = false;
    for (const el of document.querySelectorAll('.countdown')) {
      const expires = Number(el.dataset.expires);
      const card = el.closest('.offer');
      const id = Number(card.dataset.assignment);
      const task = state.tasks.get(id);
      const left = Math.ceil((expires - serverNow()) / 1000);
      if (left <= 0 && !state.pending.has(id)) {
        // Out of time here; the server's offer_expired confirms it.
        state.ended.set(id, 'expired');
        if (state.declining === id) state.declining = null;
        queueMicrotask(render);
        continue;
      }
      live = true;
      const total = Math.max(1, Math.round((expires - task.assignment.offered_ms) / 1000));
      el.querySelector('.count-text').textContent = t('seconds_left', Math.min(total, Math.max(0, left)));
      el.querySelector('.count-fill').style.width = `${Math.max(0, Math.min(100, (100 * left) / total))}%`;
      el.classList.toggle('urgent', left <= 15);
    }
    return live;
  }

  function currentTask() {
    return [...state.tasks.values()].find((x) => mine(x.assignment) && ['accepted', 'on_scene'].includes(x.assignment.state));
  }

  function renderTask() {
    const box = $('task');
    const task = currentTask();
    if (!task) { box.replaceChildren(); return; }
    const { assignment: a, incident, elder: e } = task;
    const pend = state.pending.get(a.id);
    const step = a.state === 'accepted' ? 0 : 1;
    const steps = h('ol.steps', {}, ...['step_en_route', 'step_on_scene', 'step_complete'].map((k, i) =>
      h(`li${i < step ? '.done' : i === step ? '.now' : ''}`, { text: t(k) })));
    const geoHref = e ? `geo:${e.lat},${e.lon}?q=${e.lat},${e.lon}(${encodeURIComponent(e.address)})` : null;
    const links = h('div.links', {},
      e?.phone ? h('a.btn.call', { href: `tel:${e.phone}`, text: `${t('call_elder')} ${e.phone}` }) : null,
      geoHref ? h('a.btn', { href: geoHref, text: t('navigate') }) : null);
    const phoneRow = (who, phone) => h('li', {}, h('a.btn.contact', { href: `tel:${phone}` },
      h('span.cname', { text: who }), h('span.num', { text: `${t('call')} ${phone}` })));
    const contacts = (e?.contacts || []).map((c) => phoneRow(c.relation ? `${c.name}（${c.relation}）` : c.name, c.phone));
    if (e?.family_doctor_phone) contacts.push(phoneRow(`${t('family_doctor')} ${e.family_doctor}`, e.family_doctor_phone));
    let action;
    if (pend) action = h('p.pending', { text: pend.queued ? t('queued_one', t(`act_${pend.type}`)) : '…' });
    else if (a.state === 'accepted') action = h('button.btn.accept.block', { type: 'button', text: t('arrived'), onclick: () => ctx.arrive(a.id) });
    else action = completeForm(a.id, e);
    box.replaceChildren(h('section.card.task', { 'data-assignment': a.id, 'data-state': a.state },
      h('div.kicker', { text: t('current_task') }),
      steps,
      h('div.big', { text: tc(alertKind(incident)) }),
      h('div.elder', { text: elderLine(e) }),
      h('div.address', { text: e?.address || '' }),
      elderTags(e),
      links,
      a.state === 'accepted' ? action : null,
      contacts.length ? h('div.label', { text: t('contacts') }) : null,
      contacts.length ? h('ul.contacts', {}, ...contacts) : null,
      a.state === 'accepted' ? null : action));
  }

  function completeForm(id, elder) {
    const d = draft(id);
    const field = (key, ph, rows) => h('label.field', {}, h('span', { text: t(key) }),
      h('textarea', { rows, placeholder: ph ? t(ph) : null, name: key, value: d[key] || '',
        oninput: (ev) => {
          saveDraft(id, { [key]: ev.target.value });
          if (key === 'outcome' && state.needOutcome === id && ev.target.value.trim()) {
            state.needOutcome = null;
            ev.target.parentElement.querySelector('.error')?.remove();
          }
        } }),
      key === 'outcome' && state.needOutcome === id ? h('span.error', { role: 'alert', text: t('need_outcome') }) : null);
    const areas = h('fieldset.areas', {}, h('legend', { text: t('areas') }),
      ...AREAS.map((k) => h('label.check', {}, h('input', { type: 'checkbox', name: 'area', value: k,
        checked: (d.areas || []).includes(k),
        onchange: () => saveDraft(id, { areas: [...document.querySelectorAll('input[name=area]:checked')].map((x) => x.value) }) }),
      h('span', { text: tc(`area:${k}`) }))));
    return h('form.complete', { onsubmit: (ev) => { ev.preventDefault(); ctx.complete(id); } },
      elder ? h('button.btn.block.quiet', { type: 'button', text: t('use_home'),
        onclick: () => ctx.sendPosition({ lat: elder.lat, lon: elder.lon, accuracy_m: 10, at_ms: serverNow() }, true) }) : null,
      h('h2', { text: t('complete_title') }),
      field('outcome', 'outcome_ph', 2),
      areas,
      field('notes', null, 2),
      field('hazards', 'hazards_ph', 2),
      h('button.btn.primary.block', { type: 'submit', text: t('complete') }));
  }

  function renderDuty() {
    if (state.view !== 'work') return;
    const on = onDuty();
    const sw = $('duty');
    sw.setAttribute('aria-checked', String(!!on));
    sw.classList.toggle('on', !!on);
    sw.classList.toggle('pending', !!state.dutyPending);
    $('duty-text').textContent = t(on ? 'on_duty' : 'off_duty');
    $('duty-hint').textContent = state.dutyPending?.queued ? t('queued_one', t('act_duty')) : t(on ? 'duty_on_hint' : 'duty_off_hint');
    for (const b of $('mode').querySelectorAll('button')) {
      b.setAttribute('aria-checked', String(b.dataset.mode === state.mode));
    }
    const p = state.lastPos;
    const gs = state.geoState;
    let text;
    if (gs === 'ok' && p && !p.manual) text = t('gps_on', [Math.round(p.accuracy_m), ago(serverNow() - p.at_ms)]);
    else if (gs === 'denied' || gs === 'unavailable') text = t(gs === 'denied' ? 'gps_denied' : 'gps_unavailable');
    else if (gs === 'waiting') text = t('gps_wait');
    else text = p ? posText(p) : t('no_pos');
    $('pos-status').replaceChildren(text,
      (gs === 'denied' || gs === 'unavailable') && p ? h('span.sub', { text: posText(p) }) : '');
    const manual = gs !== 'ok' && gs !== 'waiting';
    $('manual-pos').hidden = !manual;
    if (manual && p && !$('lat').value && document.activeElement?.form !== $('manual-pos')) {
      $('lat').value = p.lat.toFixed(6);
      $('lon').value = p.lon.toFixed(6);
    }
  }

  function posText(p) {
    return t(p.manual && !p.fromServer ? 'manual_pos' : 'last_pos', ago(serverNow() - p.at_ms));
  }

  function renderTasks() {
    const list = [...state.tasks.values()].filter((x) => mine(x.assignment))
      .sort((x, y) => (LIVE.has(y.assignment.state) - LIVE.has(x.assignment.state)) || (y.assignment.offered_ms - x.assignment.offered_ms))
      .slice(0, 20);
    $('tasks').replaceChildren(...(list.length ? list.map(({ assignment: a, incident, elder }) =>
      h(`li.${LIVE.has(a.state) ? 'live' : 'past'}`, { 'data-assignment': a.id },
        h('div.row', {}, h('strong', { text: tc(alertKind(incident)) }), h(`span.state.s-${a.state}`, { text: tc(`a:${a.state}`) })),
        h('div', { text: elder ? `${elder.name} · ${elder.address}` : '' }),
        h('div.hint', { text: new Date(a.offered_ms).toLocaleString(getLang() === 'en' ? 'en-GB' : 'zh-CN',
          { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }) })))
      : [h('li.empty', { text: t(onDuty() ? 'standby' : 'off_hint') })]));
  }

  // --- today's visits ------------------------------------------------------------------

  const clock = (ms) => new Date(ms).toLocaleTimeString(getLang() === 'en' ? 'en-GB' : 'zh-CN',
    { hour: '2-digit', minute: '2-digit' });

  function renderVisits() {
    if (state.view !== 'work') return;
    const v = state.tab === 'visits';
    $('tasks-card').hidden = v;
    $('visits-card').hidden = !v;
    $('tab-tasks').setAttribute('aria-selected', String(!v));
    $('tab-visits').setAttribute('aria-selected', String(v));
    const items = state.visits.items || [];
    const open = items.filter((i) => i.state === 'due' || i.state === 'late').length +
      (state.visits.hazards || []).length;
    const badge = $('visits-badge');
    badge.hidden = !state.openVisit && !open;
    badge.className = `badge${state.openVisit ? ' live' : ''}`;
    badge.textContent = state.openVisit ? '●' : String(open);
    renderVisitOpen();
    renderVisitList();
    renderHazards();
  }

  // The visit in progress (its finish form) or the last one's result. Redrawn only when
  // what it shows changes, so a list refreshed under the worker's typing keeps the focus.
  let openDrawn = '';
  function renderVisitOpen() {
    const o = state.openVisit, r = state.visitResult;
    const sig = JSON.stringify([getLang(), o?.visit_id, o?.started_ms, state.visitPending?.kind, r?.visit_id,
      o ? (ctx.vdraft(o.visit_id).hazards || []).length : 0]);
    if (sig === openDrawn) return;
    openDrawn = sig;
    const box = $('visit-open');
    if (o) box.replaceChildren(openVisitCard(o));
    else if (r) box.replaceChildren(visitResultCard(r));
    else box.replaceChildren();
  }

  const flagChips = (flags) => (flags || []).map((f) => h('span.chip.warn.flag', { 'data-flag': f, text: `⚠ ${tc(`flag:${f}`)}` }));

  function openVisitCard(o) {
    const d = ctx.vdraft(o.visit_id);
    const pend = state.visitPending?.kind === 'finish';
    const areas = h('fieldset.areas', {}, h('legend', { text: t('areas') }),
      ...AREAS.map((k) => h('label.check', {}, h('input', { type: 'checkbox', name: 'varea', value: k,
        checked: (d.areas || []).includes(k),
        onchange: () => ctx.saveVdraft(o.visit_id,
          { areas: [...document.querySelectorAll('input[name=varea]:checked')].map((x) => x.value) }) }),
      h('span', { text: tc(`area:${k}`) }))));
    const hazards = (d.hazards || []).map((z, n) => {
      const save = (patch) => {
        const all = ctx.vdraft(o.visit_id).hazards || [];
        all[n] = { ...all[n], ...patch };
        ctx.saveVdraft(o.visit_id, { hazards: all });
      };
      return h('div.hazard', { 'data-hazard': n },
        h('label.field', {}, h('span', { text: t('hazard_area') }),
          h('select', { name: 'hazard-area', onchange: (ev) => save({ area: ev.target.value }) },
            ...AREAS.map((k) => h('option', { value: k, text: tc(`area:${k}`), selected: (z.area || 'home_safety') === k })))),
        h('label.field', {}, h('span', { text: t('hazard_text') }),
          h('textarea', { name: 'hazard-text', rows: 2, placeholder: t('hazards_ph'), value: z.text || '',
            oninput: (ev) => save({ text: ev.target.value }) })),
        h('button.btn.small.quiet', { type: 'button', text: t('hazard_remove'), onclick: () => {
          const all = ctx.vdraft(o.visit_id).hazards || [];
          all.splice(n, 1);
          ctx.saveVdraft(o.visit_id, { hazards: all });
          renderVisitOpen();
        } }));
    });
    return h('section.visit-open', { 'data-visit': o.visit_id, 'data-elder': o.elder_id },
      h('div.kicker', { text: t('visit_open') }),
      h('div.elder', { text: o.name || '' }),
      h('div.address', { text: o.address || '' }),
      h('div.hint.since', { text: sinceText(o) }),
      o.fromServer ? h('div.hint.resumed', { text: t('visit_resumed') }) : null,
      o.flags?.length ? h('div.reasons.flags', {}, ...flagChips(o.flags)) : null,
      o.phone ? h('div.links', {}, h('a.btn.call', { href: `tel:${o.phone}`, text: `${t('call_elder')} ${o.phone}` })) : null,
      h('form.finish', { onsubmit: (ev) => { ev.preventDefault(); ctx.finishVisit(); } },
        h('h2', { text: t('finish_title') }),
        areas,
        h('label.field', {}, h('span', { text: t('visit_notes') }),
          h('textarea', { name: 'visit-notes', rows: 3, placeholder: t('visit_notes_ph'), value: d.notes || '',
            oninput: (ev) => ctx.saveVdraft(o.visit_id, { notes: ev.target.value }) })),
        h('div.label', { text: t('hazards') }),
        ...hazards,
        h('button.btn.block.quiet.add-hazard', { type: 'button', text: t('hazard_add'), onclick: () => {
          ctx.saveVdraft(o.visit_id, { hazards: [...(ctx.vdraft(o.visit_id).hazards || []), { area: 'home_safety', text: '' }] });
          renderVisitOpen();
          const texts = document.querySelectorAll('.visit-open textarea[name="hazard-text"]');
          texts[texts.length - 1]?.focus();
        } }),
        pend ? h('p.pending', { text: t('getting_pos') })
          : h('button.btn.accept.block.finish-visit', { type: 'submit', text: t('finish_visit') })));
  }

  // "入户探访 · 09:40 开始 · 开始时距老人住址 0 米"; a visit known only from the server's
  // list has no mode or distance here.
  function sinceText(o) {
    const when = o.started_ms ? clock(o.started_ms) : '';
    if (o.mode && o.distance_m !== undefined) return `${tc(`vmode:${o.mode}`)} · ${t('visit_since', [when, distanceText(o.distance_m)])}`;
    return when ? t('visit_since_time', when) : '';
  }

  function visitResultCard(r) {
    const ids = (r.hazard_ids || []).map((x) => `#${x}`).join('、');
    return h('section.visit-result', { 'data-visit': r.visit_id, 'data-elder': r.elder_id },
      h('div.big-ok', { text: t('visit_done', [r.name || '', r.minutes ?? 0]) }),
      r.flags?.length ? h('div.reasons.flags', {}, ...flagChips(r.flags)) : h('div.hint', { text: t('no_flags') }),
      ids ? h('div.hazard-ids', { text: t('hazard_ids', ids) }) : null,
      h('button.btn.block.quiet', { type: 'button', text: t('dismiss'),
        onclick: () => { state.visitResult = null; renderVisitOpen(); } }));
  }

  function renderVisitList() {
    const vs = state.visits, status = $('visits-status');
    let text = '', err = false;
    if (vs.error) { text = t('visits_failed', `${tc(vs.error.code)}（${[vs.error.message, vs.error.code].filter(Boolean).join(', ')}）`); err = true; }
    else if (vs.loading && !vs.items) text = t('visits_loading');
    else if (vs.items && !vs.items.length) text = t('visits_empty');
    else if (vs.items) text = t('visits_updated', clock(vs.at));
    status.textContent = text;
    status.className = err ? 'error' : 'hint';
    status.setAttribute('role', err ? 'alert' : 'status');
    let first = true;
    $('visits').replaceChildren(...(vs.items || []).map((i) => {
      const leg = i.distance_m === undefined ? null : t(first ? 'leg_first' : 'leg_next', distanceText(i.distance_m));
      if (i.distance_m !== undefined) first = false;
      return visitItem(i, leg);
    }));
  }

  function visitItem(i, leg) {
    const pend = state.visitPending?.kind === 'start' && state.visitPending.elder_id === i.elder_id;
    const consent = state.consentAsk?.elder_id === i.elder_id ? state.consentAsk : null;
    const openHere = state.openVisit?.elder_id === i.elder_id;
    const why = [tc(`vreason:${i.reason}`)];
    if (i.campaign) why.push(i.campaign);
    if (i.state === 'late') why.push(t('due_on', dayText(i.due_date)));
    let action = null;
    if (i.state === 'done') action = null;
    else if (pend) action = h('p.pending', { text: t('getting_pos') });
    else if (openHere) action = h('p.pending', { text: t('visit_open') });
    else if (i.open_visit_id) action = h('p.pending', { text: t('visit_open_elsewhere') });
    else if (consent) {
      action = h('div.consent', { role: 'alert' },
        h('p.error', { text: t('consent_needed') }),
        h('p.hint.detail', { text: `${consent.message || ''} (E_BAD_STATE)` }),
        h('button.btn.block.encounter', { type: 'button', text: t('start_encounter'), onclick: () => ctx.startVisit(i, 'encounter') }));
    } else if (!state.openVisit) {
      action = h('button.btn.primary.block.start-visit', { type: 'button', text: t('start_visit'), onclick: () => ctx.startVisit(i) });
    }
    return h(`li.visit.v-${i.state}`, { 'data-elder': i.elder_id, 'data-state': i.state, 'data-reason': i.reason },
      h('div.row', {}, h('strong.v-name', { text: i.name || `#${i.elder_id}` }),
        h(`span.state.vs-${i.state}`, { text: tc(`vstate:${i.state}`) })),
      h('div.v-address', { text: i.address || '' }),
      h('div.reasons', {},
        i.tier ? h('span.chip.v-tier', { text: tc(`tier:${i.tier}`) }) : null,
        h('span.chip.v-why', { text: why.join(' · ') }),
        i.mode === 'encounter' ? h('span.chip', { text: tc('vmode:encounter') }) : null),
      h('div.v-meta', {},
        leg ? h('span.v-leg', { text: leg }) : null,
        i.plan ? h('span.v-plan', { text: planText(i.plan) }) : null),
      action);
  }

  // --- hazards to follow up (隐患跟进) ------------------------------------------------
  // The open hazards the worker owns, under the list. Redrawn only when what it shows
  // changes, so a list refreshed while the worker types a note keeps the focus.

  // A day in China time (the server's days), as 12月10日 / 10 Dec.
  const chinaDay = (ms) => dayText(new Date(ms + 8 * 3600000).toISOString().slice(0, 10));

  let hazardsDrawn = '';
  function renderHazards() {
    const list = state.visits.hazards;
    const box = $('hazards-box');
    const today = chinaDay(serverNow());
    const sig = JSON.stringify([getLang(), today, list?.map((z) => [z.hazard_id, z.due_ms, z.text, z.area, z.name]),
      state.hazardClosing, state.hazardPending, state.hazardNeedNote, state.hazardError?.hazard_id,
      state.hazardError?.err?.code, state.hazardError?.err?.message]);
    if (sig === hazardsDrawn) return;
    hazardsDrawn = sig;
    if (!list) { box.replaceChildren(); box.hidden = true; return; }
    box.hidden = false;
    box.replaceChildren(
      h('div.card-head.hazards-head', {}, h('h3', { text: t('hazards_title') }),
        list.length ? h('span.badge.hz-count', { text: String(list.length) }) : null),
      list.length ? h('ul.hazards', { id: 'hazards' }, ...list.map(hazardItem))
        : h('p.hint.hz-empty', { text: t('hazards_none') }));
  }

  function hazardItem(z) {
    const overdue = z.due_ms < serverNow();
    const closing = state.hazardClosing === z.hazard_id;
    const pend = state.hazardPending === z.hazard_id;
    const err = state.hazardError?.hazard_id === z.hazard_id ? state.hazardError.err : null;
    let action;
    if (pend) {
      action = h('p.pending', { text: t('hazard_closing') });
    } else if (closing) {
      const need = state.hazardNeedNote === z.hazard_id;
      action = h('form.hz-close', { onsubmit: (ev) => { ev.preventDefault(); ctx.closeHazard(z.hazard_id); } },
        h('label.field', {}, h('span', { text: t('hazard_note') }),
          h('textarea', { name: 'hazard-note', rows: 2, maxlength: 300, placeholder: t('hazard_note_ph'),
            value: ctx.hnote(z.hazard_id), 'aria-invalid': need ? 'true' : null,
            oninput: (ev) => {
              ctx.saveHnote(z.hazard_id, ev.target.value);
              if (need && ev.target.value.trim()) ev.target.closest('form').querySelector('.need-note')?.remove();
            } }),
          need ? h('span.error.need-note', { role: 'alert', text: t('hazard_need_note') }) : null),
        h('div.two', {},
          h('button.btn.hz-cancel', { type: 'button', text: t('back'), onclick: () => ctx.cancelCloseHazard() }),
          h('button.btn.accept.hz-confirm', { type: 'submit', text: t('hazard_confirm') })));
    } else {
      action = h('button.btn.block.hz-close-btn', { type: 'button', text: t('hazard_close'),
        onclick: () => {
          ctx.askCloseHazard(z.hazard_id);
          document.querySelector(`.hazard-item[data-hazard-id="${z.hazard_id}"] textarea`)?.focus();
        } });
    }
    return h(`li.hazard-item${overdue ? '.overdue' : ''}`, { 'data-hazard-id': z.hazard_id, 'data-elder': z.elder_id },
      h('div.row', {}, h('strong.hz-name', { text: z.name || `#${z.elder_id}` }),
        h('span.chip.hz-area', { text: tc(`area:${z.area}`) })),
      h('div.hz-text', { text: z.text || '' }),
      h('div.hz-due', {}, h(`span${overdue ? '.hz-late' : ''}`,
        { text: overdue ? t('hazard_overdue', chinaDay(z.due_ms)) : t('hazard_due', chinaDay(z.due_ms)) }),
      z.found_ms ? h('span.hint', { text: t('hazard_found', chinaDay(z.found_ms)) }) : null),
      err ? h('p.error.hz-error', { role: 'alert', text: ctx.failure('close_hazard', err) }) : null,
      action);
  }

  function showLoginError(text) {
    $('login-error').textContent = text;
    $('login-error').hidden = !text;
  }

  return { render, renderBanner, renderNotices, renderTask, renderDuty, renderTasks, renderVisits, tickCountdowns,
    showLoginError };
}
