// The field page (ws-gateway/field) driven in headless chromium against a real
// anxin-server, at phone size (360x740), with a screenshot of each step.
//
//   node field.test.mjs SUITE SERVER_BIN SIM_BIN ARTIFACTS_DIR
//
// SUITE "main": log in, duty with a manual position, an offer raised by a real alarm
// and dispatched by a console, accept, on scene, complete with a report, the server's
// state, English, role isolation over raw WebSocket, and an accept taken while the
// server is down and sent once it is back; then a worker's visit list (docs/visits.md):
// in the server's walking order, a visit started at the elder's home and finished
// with two areas and a hazard, and one refused at home for want of consent and made at
// the door instead; then the hazard it filed, followed up under the list (shown red once
// past its day, closed only with a note, and gone from the server's list), and visits
// the page has no record of (its storage lost, or begun on another phone) finished
// from the server's open_visit_id.
// SUITE "timeout": an unanswered offer expires on the open page; an accept queued
// offline after its offer lapsed is refused with the server's error.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Centre, Client, launchBrowser, phonePage, artifactsDir, sleep } from './harness.mjs';

const [suite, serverBin, simBin, artifactsRoot] = process.argv.slice(2);
if (!suite || !serverBin || !simBin || !artifactsRoot) {
  console.error('usage: node field.test.mjs main|timeout SERVER_BIN SIM_BIN ARTIFACTS_DIR');
  process.exit(2);
}
const shots = artifactsDir(artifactsRoot);

let centre, browser, page, consoleWs;

async function shot(name, opts = {}) {
  await page.waitForTimeout(150);  // let transitions settle
  await page.screenshot({ path: join(shots, `${name}.png`), ...opts });
}

// The page's own troubles: script errors and CSP refusals. A refused socket while
// the server is down is expected.
function problems() {
  return page.problems.filter((p) => !/WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/.test(p));
}

// Rows of the centre's file, read with the sqlite3 shell.
function db(q) {
  const out = execFileSync('sqlite3', ['-json', centre.db, q], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

// A supervisor asks for a visit at home every day of these elders: one is due (or
// late) today, whatever the demo's visitors did this week.
async function dailyVisitsAtHome(elderIds) {
  const boss = new Client(centre.wsUrl);
  await boss.open();
  const password = centre.tokens.password;
  assert.equal((await boss.request({ type: 'login', role: 'console', username: 'zhangmin', password })).type, 'welcome');
  for (const id of elderIds) {
    const planned = await boss.request({ type: 'set_plan', elder_id: id, times: 7, per: 'week', mode: 'home' });
    assert.equal(planned.type, 'elder_updated', JSON.stringify(planned));
  }
  boss.close();
}

async function setUp() {
  centre = new Centre({ serverBin, simBin });
  centre.generate();
  await centre.start();
  browser = await launchBrowser();
  page = await phonePage(browser);
  // Record the offer's vibration and sound, which a headless browser cannot show.
  await page.addInitScript(() => {
    window.__vibrations = [];
    navigator.vibrate = (p) => { window.__vibrations.push(p); return true; };
    window.__tones = 0;
    const make = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () { window.__tones++; return make.call(this); };
  });
  consoleWs = await centre.console();
}

async function tearDown() {
  consoleWs?.close();
  await browser?.close();
  await centre?.close();
}

async function logIn(worker = 1) {
  await page.goto(centre.pageUrl());
  await page.locator('#login-view').waitFor();
  await page.fill('#username', centre.cred[worker].username);
  await page.fill('#password', 'not-the-password');
  await page.click('#login-button');
  await page.locator('#login-error', { hasText: '用户名或密码不正确' }).waitFor();
  await shot('01-login-refused');
  await page.fill('#password', centre.cred[worker].password);
  await page.click('#login-button');
  await page.locator('#work-view').waitFor();
  await page.locator('#who', { hasText: centre.workers[worker - 1].name }).waitFor();
}

// The page logs in again by itself after a restart, unless the session did not
// survive it: then the login form is shown and we use it.
async function waitBackOnline() {
  const login = page.locator('#login-view');
  const ready = page.locator('#banner');
  await page.waitForFunction(() => {
    const b = document.getElementById('banner');
    return !document.getElementById('login-view').hidden || b.hidden || !/断开|重新连接/.test(b.textContent);
  }, null, { timeout: 30000 });
  if (await login.isVisible()) {
    await page.fill('#username', centre.cred[1].username);
    await page.fill('#password', centre.cred[1].password);
    await page.click('#login-button');
  }
  await ready.waitFor({ state: 'hidden', timeout: 30000 });
}

async function goOnDuty(dev) {
  // Geolocation is not granted to this page: the manual form is the way.
  await page.locator('#manual-pos').waitFor();
  await page.fill('#lat', (dev.lat + 0.004).toFixed(6));
  await page.fill('#lon', (dev.lon + 0.002).toFixed(6));
  await page.click('#mode [data-mode="ebike"]');
  await page.click('#send-pos');
  await page.click('#duty');
  await page.locator('#duty[aria-checked="true"]').waitFor();
  await page.locator('#duty.pending').waitFor({ state: 'detached' }).catch(() => {});
  await page.waitForFunction(() => !document.getElementById('duty').classList.contains('pending'));
  const snap = await consoleWs.request({ type: 'subscribe' });
  const me = snap.workers.find((w) => w.id === 1);
  assert.equal(me.status, 'available');
  assert.ok(Math.abs(me.lat - (dev.lat + 0.004)) < 1e-5, `position on the server: ${me.lat}`);
  assert.equal(me.mode, 'ebike');
}

async function dispatchTo(dev, seq, worker = 1) {
  const incident = await centre.alarm(dev, seq);
  const r = await consoleWs.request({ type: 'dispatch', incident_id: incident, worker_id: worker });
  assert.equal(r.type, 'ok', JSON.stringify(r));
  return incident;
}

async function serverIncident(id) {
  const snap = await consoleWs.request({ type: 'subscribe' });
  return snap.incidents.find((i) => i.id === id);
}

if (suite === 'main') {
  describe('the field page, at phone size', () => {
    let incident;
    let visitor;  // the worker of the visit list test: {account, worker, hazard}
    before(setUp);
    after(tearDown);

    it('logs in and shows the worker', async () => {
      await logIn(1);
      await shot('02-logged-in');
      assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    });

    it('goes on duty with a manual position', async () => {
      await goOnDuty(centre.devices[0]);
      await page.locator('#pos-status', { hasText: '手动位置' }).waitFor();
      await shot('03-on-duty');
    });

    it('receives an offer raised by a real alarm, with sound and vibration', async () => {
      const dev = centre.devices[0];
      incident = await dispatchTo(dev, 1);
      const offer = page.locator('.offer[data-state="offered"]');
      await offer.waitFor();
      const text = await offer.innerText();
      assert.match(text, /新派单/);
      assert.match(text, /一键呼叫求助/);
      assert.ok(text.includes(dev.elder), text);
      assert.ok(text.includes(dev.address), text);
      assert.match(text, /距离\s*\d/);
      assert.match(text, /预计到达\s*\d+ 分钟/);
      assert.match(text, /剩余 \d+ 秒/);
      await page.waitForFunction(() => window.__vibrations.length > 0 && window.__tones > 0);
      await shot('04-offer');
    });

    it('declines only with a reason, then accepts', async () => {
      await page.click('.offer button.decline');
      await page.locator('.decline-panel').waitFor();
      assert.equal(await page.locator('.decline-panel button.reason').count(), 4);
      await shot('05-decline-reasons');
      await page.click('.decline-panel button:has-text("返回")');
      await page.click('.offer button.accept');
      const task = page.locator('.task[data-state="accepted"]');
      await task.waitFor();
      const dev = centre.devices[0];
      assert.match(await page.locator('.task a[href^="tel:"]').first().getAttribute('href'), /^tel:\d+/);
      const geo = await page.locator('.task a[href^="geo:"]').getAttribute('href');
      assert.ok(geo.startsWith(`geo:${dev.lat},${dev.lon}?q=${dev.lat},${dev.lon}(`), geo);
      assert.ok(await page.locator('.task .contacts a[href^="tel:"]').count() >= 1);
      await shot('06-en-route');
    });

    it('arrives and completes with a report', async () => {
      await page.click('.task button.accept');  // 我已到达
      await page.locator('.task[data-state="on_scene"]').waitFor();
      await shot('07-on-scene');
      await page.click('.complete button[type="submit"]');  // no outcome yet: refused here
      await page.locator('.complete .error', { hasText: '请填写处理结果' }).waitFor();
      await page.fill('textarea[name="outcome"]', '老人摔倒后已扶起，无明显外伤，已联系女儿');
      for (const area of ['health', 'home_safety', 'emotional', 'emergency']) {
        await page.check(`input[name="area"][value="${area}"]`);
      }
      await page.fill('textarea[name="notes"]', '建议家属加装床边扶手');
      await page.fill('textarea[name="hazards"]', '卫生间地面湿滑');
      await page.locator('.complete h2').scrollIntoViewIfNeeded();
      await page.evaluate(() => window.scrollBy(0, document.querySelector('.complete h2').getBoundingClientRect().top - 70));
      await shot('08-report');
      await page.click('.complete button[type="submit"]');
      await page.locator('.task').waitFor({ state: 'detached' });
      await page.locator('#tasks li.past .state.s-completed').first().waitFor();
      await shot('09-completed');
    });

    it('the server holds the completion, with its outcome', async () => {
      const inc = await serverIncident(incident);
      assert.ok(inc, 'the incident is still open for the console');
      const mine = inc.assignments.find((a) => a.worker_id === 1);
      assert.equal(mine.state, 'completed');
      const done = inc.timeline.find((e) => e.kind === 'completed');
      assert.ok(done, JSON.stringify(inc.timeline));
      assert.match(JSON.stringify(done), /老人摔倒后已扶起/);
      // The report is a home visit on the elder's record; its hazard is on the incident.
      assert.match(JSON.stringify(inc.timeline), /卫生间地面湿滑/);
      const history = await consoleWs.request({ type: 'elder', elder_id: centre.devices[0].elder_id });
      const visit = history.visits.find((v) => v.incident_id === incident);
      assert.ok(visit, JSON.stringify(history.visits));
      assert.deepEqual([...visit.areas].sort(), ['emergency', 'emotional', 'health', 'home_safety']);
      assert.equal(visit.notes, '建议家属加装床边扶手');
      assert.equal(visit.hazards, '卫生间地面湿滑');
      assert.equal(visit.worker_id, 1);
      const me = (await consoleWs.request({ type: 'subscribe' })).workers.find((w) => w.id === 1);
      assert.equal(me.status, 'available');
    });

    it('speaks English, and remembers it', async () => {
      await page.click('#lang');
      await page.locator('#duty-text', { hasText: 'On duty' }).waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      assert.match(await page.locator('#tasks').innerText(), /Completed/);
      await shot('10-english');
      await page.reload();
      await page.locator('#duty-text', { hasText: 'On duty' }).waitFor();
      await page.click('#lang');
      await page.locator('#duty-text', { hasText: '在岗' }).waitFor();
    });

    it("a field token cannot see another worker's task or the registry", async () => {
      const w2 = await centre.worker(2);
      const snap = await w2.request({ type: 'subscribe' });
      assert.equal(snap.type, 'snapshot');
      assert.deepEqual(snap.incidents, []);
      assert.deepEqual(snap.elders, []);
      assert.deepEqual(snap.workers.map((w) => w.id), [2]);
      const theirs = (await serverIncident(incident)).assignments.find((a) => a.worker_id === 1);
      for (const frame of [{ type: 'accept', assignment_id: theirs.id }, { type: 'on_scene', assignment_id: theirs.id },
        { type: 'complete', assignment_id: theirs.id, outcome: 'x' }]) {
        const r = await w2.request(frame);
        assert.equal(r.code, 'E_UNKNOWN_ASSIGNMENT', JSON.stringify(r));
      }
      for (const frame of [{ type: 'metrics' }, { type: 'candidates', incident_id: incident },
        { type: 'dispatch', incident_id: incident }, { type: 'ack_incident', incident_id: incident }]) {
        const r = await w2.request(frame);
        assert.equal(r.code, 'E_FORBIDDEN', JSON.stringify(r));
      }
      // Worker 2's own tasks only: the demo's history may have offered them some.
      const tasks = await w2.request({ type: 'my_tasks' });
      assert.ok(Array.isArray(tasks.tasks), JSON.stringify(tasks));
      for (const t of tasks.tasks) {
        assert.equal(t.assignment.worker_id, 2, JSON.stringify(t));
        assert.notEqual(t.assignment.id, theirs.id, JSON.stringify(t));
      }
      const elder = await w2.request({ type: 'elder', elder_id: centre.devices[0].elder_id });
      assert.equal(elder.code, 'E_FORBIDDEN', JSON.stringify(elder));
      w2.close();
    });

    it('on a desktop browser, shares the position from geolocation', async () => {
      const dev = centre.devices[4];
      const desk = await phonePage(browser, { width: 1280, height: 800, permissions: ['geolocation'],
        geolocation: { latitude: dev.lat + 0.001, longitude: dev.lon, accuracy: 12 } });
      // A session made elsewhere (?token=), and the socket named in the address (?ws=).
      const w2 = await centre.worker(2);
      w2.close();
      await desk.goto(centre.pageUrl({ token: w2.welcome.session, ws: centre.wsUrl }));
      await desk.locator('#who', { hasText: centre.workers[1].name }).waitFor();
      await desk.click('#mode [data-mode="walk"]');
      // The demo puts some workers on duty already.
      if (await desk.locator('#duty[aria-checked="false"]').count()) await desk.click('#duty');
      await desk.locator('#pos-status', { hasText: /GPS 定位 ±12 米/ }).waitFor();
      await desk.waitForFunction(() => !document.getElementById('duty').classList.contains('pending'));
      assert.ok(await desk.locator('#manual-pos').isHidden(), 'no manual form while GPS works');
      // The page's last frames may still be on their way: ask until they are in.
      let rec;
      for (let i = 0; i < 50; i++) {
        rec = (await consoleWs.request({ type: 'subscribe' })).workers.find((w) => w.id === 2);
        if (rec.mode === 'walk' && rec.accuracy_m === 12) break;
        await sleep(100);
      }
      assert.equal(rec.status, 'available');
      assert.ok(Math.abs(rec.lat - (dev.lat + 0.001)) < 1e-6, `worker 2 at ${rec.lat}`);
      assert.equal(rec.accuracy_m, 12);
      assert.equal(rec.mode, 'walk');
      await desk.screenshot({ path: join(shots, '15-desktop-gps.png') });
      assert.deepEqual(desk.problems, []);
      // Off duty again, so the next offers go to worker 1.
      await desk.click('#duty');
      await desk.locator('#duty[aria-checked="false"]').waitFor();
      await desk.waitForFunction(() => !document.getElementById('duty').classList.contains('pending'));
      await desk.context().close();
    });

    it('an accept taken while the server is down is sent once it is back', async () => {
      const id = await dispatchTo(centre.devices[1], 1);
      await page.locator('.offer[data-state="offered"]').waitFor();
      consoleWs.close();
      await centre.stop();
      await page.locator('#banner.down', { hasText: '连接已断开' }).waitFor();
      await page.click('.offer button.accept');
      await page.locator('.offer .pending', { hasText: '恢复连接后自动发送' }).waitFor();
      await page.locator('#banner', { hasText: '1 项操作等待发送' }).waitFor();
      await shot('11-offline-queued');
      await centre.start();
      await waitBackOnline();
      await page.locator('.task[data-state="accepted"]').waitFor();
      consoleWs = await centre.console();
      const inc = await serverIncident(id);
      assert.equal(inc.assignments.find((a) => a.worker_id === 1).state, 'accepted');
      assert.equal(await page.locator('.notice.error').count(), 0);
      await shot('12-back-online');
    });

    it('logs out: the session is revoked and the login shows again', async () => {
      const session = await page.evaluate(() => localStorage.getItem('anxin.session'));
      assert.ok(session);
      await page.click('#logout');
      await page.locator('#login-view').waitFor();
      // The page forgets the session before it shows the login form.
      assert.equal(await page.evaluate(() => localStorage.getItem('anxin.session')), null);
      // The server ends it once the page's logout frame arrives, which may still be on
      // its way: ask until it is refused (or give up after 5 s).
      let r;
      for (let i = 0; i < 50; i++) {
        const again = new Client(centre.wsUrl);
        await again.open();
        r = await again.request({ type: 'hello', v: 1, role: 'field', token: session });
        again.close();
        if (r.code === 'E_AUTH_FAILED') break;
        await sleep(100);
      }
      assert.equal(r.code, 'E_AUTH_FAILED', JSON.stringify(r));
      await page.reload();
      await page.locator('#login-view').waitFor();
      assert.ok(await page.locator('#work-view').isHidden());
      // The server closes a socket that has not logged in within --hello-timeout-s
      // (3 s here); a worker who takes longer to type still logs in.
      await page.waitForTimeout(4000);
      await page.fill('#username', centre.cred[1].username);
      await page.fill('#password', centre.cred[1].password);
      await page.click('#login-button');
      await page.locator('#work-view').waitFor();
      assert.equal(await page.locator('#banner.down').count(), 0);
    });

    it("a field worker's visit list", async () => {
      // The demo pairs elders with visitors: find a worker (not 1 or 2, whom the other
      // steps use) with visits at home due or late today, asking the server itself.
      const password = centre.tokens.password;
      const workers = centre.tokens.accounts.filter((a) => a.kind === 'worker' && !['w1', 'w2'].includes(a.username));
      // The demo's visitors worked the days before today, and by a week's last days they
      // may have made all of its visits: two elders of the first of these workers get
      // daily visits at home, so that two are due (or late) on any day.
      const probe = new Client(centre.wsUrl);
      await probe.open();
      const fw = await probe.request({ type: 'login', role: 'field', username: workers[0].username, password });
      probe.close();
      assert.ok(fw.user?.worker_id, JSON.stringify(fw));
      const daily = db(`SELECT id FROM elders WHERE paired_worker = ${fw.user.worker_id}
        AND visit_consent = 1 AND unknown_caller = 0 ORDER BY id LIMIT 2`);
      assert.equal(daily.length, 2, `worker ${fw.user.worker_id} has two elders who agreed to visits at home`);
      await dailyVisitsAtHome(daily.map((e) => e.id));
      let who = null;
      for (const account of workers) {
        const c = new Client(centre.wsUrl);
        await c.open();
        const w = await c.request({ type: 'login', role: 'field', username: account.username, password });
        assert.equal(w.type, 'welcome', JSON.stringify(w));
        const list = await c.request({ type: 'my_visits' });
        c.close();
        assert.equal(list.type, 'visit_list', JSON.stringify(list));
        const open = list.visits.filter((v) => v.state === 'due' || v.state === 'late');
        const home = open.filter((v) => v.mode === 'home');
        if (home.length >= 2 && (!who || open.length > who.open)) who = { account, worker: w.user?.worker_id, open: open.length };
      }
      assert.ok(who, 'no demo worker has two visits at home due or late today');
      visitor = who;
      const raw = new Client(centre.wsUrl);
      await raw.open();
      await raw.request({ type: 'login', role: 'field', username: who.account.username, password });

      // The phone stands 600 m north-east of the first elder on the worker's list.
      const first = (await raw.request({ type: 'my_visits' })).visits[0];
      const here = { latitude: first.lat + 0.004, longitude: first.lon + 0.004 };
      const expected = (await raw.request({ type: 'my_visits', lat: here.latitude, lon: here.longitude })).visits;
      assert.ok(expected.length >= 2);

      const vpage = await phonePage(browser, { permissions: ['geolocation'], geolocation: { ...here, accuracy: 8 } });
      const context = vpage.context();
      // The page's socket, passed through; visits_changed can be held back (below).
      let holdChanges = false;
      await context.routeWebSocket(() => true, (ws) => {
        const server = ws.connectToServer();
        server.onMessage((m) => {
          if (holdChanges && String(m).includes('"visits_changed"')) return;
          ws.send(m);
        });
      });
      const vshot = async (name, opts = {}) => {
        await vpage.waitForTimeout(150);
        await vpage.screenshot({ path: join(shots, `${name}.png`), ...opts });
      };
      await vpage.goto(centre.pageUrl());
      await vpage.fill('#username', who.account.username);
      await vpage.fill('#password', password);
      await vpage.click('#login-button');
      await vpage.locator('#work-view').waitFor();
      await vpage.locator('#who', { hasText: who.account.name }).waitFor();

      // The list, in the server's order, with names, states and reasons in words.
      await vpage.click('#tab-visits');
      assert.ok(await vpage.locator('#tasks-card').isHidden());
      await vpage.waitForFunction((n) => document.querySelectorAll('#visits li.visit').length === n, expected.length);
      const shown = await vpage.locator('#visits li.visit').evaluateAll((els) => els.map((e) => Number(e.dataset.elder)));
      assert.deepEqual(shown, expected.map((v) => v.elder_id));
      const STATE = { due: '今日应访', late: '已逾期', done: '已完成' };
      const REASON = { plan: '按计划探访', phone_unreached: '电话多次未接通', campaign: '专项关爱',
        campaign_unreached: '专项关爱未联系上', device: '设备提示异常' };
      const TIER = { key: '重点人群', sub_key: '次重点人群', general: '一般人群' };
      for (const v of expected) {
        const text = await vpage.locator(`#visits li.visit[data-elder="${v.elder_id}"]`).innerText();
        for (const want of [v.name, v.address, STATE[v.state], REASON[v.reason], TIER[v.tier]]) {
          assert.ok(want && text.includes(want), `${want} in ${text}`);
        }
        assert.match(text, /计划：每[周月] \d+ 次/);
        if (v.state === 'late') assert.ok(text.includes(`应访日期 ${Number(v.due_date.slice(5, 7))}月${Number(v.due_date.slice(8))}日`), text);
      }
      const legs = await vpage.locator('#visits .v-leg').allInnerTexts();
      assert.match(legs[0], /^距我 \d/);
      if (legs.length > 1) assert.match(legs[1], /^距上一户 \d/);
      const km = (m) => (m >= 1000 ? `${(m / 1000).toFixed(1)} 公里` : `${Math.round(m)} 米`);
      assert.ok(legs[0].endsWith(km(expected[0].distance_m)), `${legs[0]} for ${expected[0].distance_m} m`);
      assert.match(await vpage.locator('#visits-badge').innerText(), /^\d+$/);
      await vpage.evaluate(() => window.scrollTo(0, 0));
      await vshot('16-visits-list', { fullPage: true });

      // Start at the elder's home (the phone is there now), in the server's first at home.
      const target = expected.find((v) => v.state !== 'done' && v.mode === 'home');
      await context.setGeolocation({ latitude: target.lat, longitude: target.lon, accuracy: 8 });
      await vpage.click(`#visits li.visit[data-elder="${target.elder_id}"] button.start-visit`);
      const open = vpage.locator(`.visit-open[data-elder="${target.elder_id}"]`);
      await open.waitFor();
      const openText = await open.innerText();
      assert.ok(openText.includes('探访进行中') && openText.includes(target.name), openText);
      assert.match(openText, /开始时距老人住址 0 米/);
      assert.equal(await open.locator('.flag').count(), 0, 'no flags at the home');
      // No second visit while this one is open.
      assert.equal(await vpage.locator('#visits button.start-visit').count(), 0);
      assert.deepEqual(await open.locator('fieldset.areas label.check').allInnerTexts(),
        ['健康管理', '居家安全', '政策链接', '养老顾问（防诈骗）', '精神慰藉', '社区活动', '应急救援', '绿色通道']);
      await open.locator('input[name="varea"][value="health"]').check();
      await open.locator('input[name="varea"][value="emotional"]').check();
      await open.locator('textarea[name="visit-notes"]').fill('老人精神尚好，降压药还剩一周');
      await open.locator('button.add-hazard').click();
      await open.locator('select[name="hazard-area"]').selectOption('home_safety');
      await open.locator('textarea[name="hazard-text"]').fill('厨房燃气软管老化开裂');
      await open.locator('form.finish h2').scrollIntoViewIfNeeded();
      await vpage.evaluate(() => window.scrollBy(0, document.querySelector('.visit-open').getBoundingClientRect().top - 70));
      await vshot('17-visit-open');
      await open.locator('button.finish-visit').click();

      // Done: the flags of a ten-second visit, the hazard's id, and the item ticked.
      const result = vpage.locator(`.visit-result[data-elder="${target.elder_id}"]`);
      await result.waitFor();
      const resultText = await result.innerText();
      assert.ok(resultText.includes(`已完成对${target.name}的探访`), resultText);
      assert.equal(await result.locator('.flag[data-flag="too_short"]').count(), 1, resultText);
      assert.equal(await result.locator('.flag[data-flag="far_from_home"]').count(), 0, resultText);
      assert.match(resultText, /已登记隐患 #\d+/);
      await vpage.locator(`#visits li.visit[data-elder="${target.elder_id}"][data-state="done"]`).waitFor();
      assert.match(await vpage.locator(`#visits li.visit[data-elder="${target.elder_id}"]`).innerText(), /已完成/);
      assert.equal(await vpage.locator('.visit-open').count(), 0);
      await vpage.evaluate(() => window.scrollTo(0, 0));  // the bar sticks where the page is scrolled to
      await vshot('18-visit-done', { fullPage: true });

      // The server holds it: done on the worker's list, on the elder's card with its
      // areas, notes and hazard.
      const after = (await raw.request({ type: 'my_visits', lat: target.lat, lon: target.lon })).visits;
      assert.equal(after.find((v) => v.elder_id === target.elder_id).state, 'done');
      const card = await consoleWs.request({ type: 'elder', elder_id: target.elder_id });
      const made = card.visits.find((v) => v.worker_id === who.worker && v.notes === '老人精神尚好，降压药还剩一周');
      assert.ok(made, JSON.stringify(card.visits));
      assert.deepEqual([...made.areas].sort(), ['emotional', 'health']);
      assert.equal(made.hazards, '厨房燃气软管老化开裂');

      // Home refused without consent: the page says so and offers a visit at the door.
      const next = after.find((v) => v.state !== 'done' && v.mode === 'home' && v.elder_id !== target.elder_id);
      if (next) {
        holdChanges = true;  // keep the item on the page while its plan changes under it
        const boss = new Client(centre.wsUrl);
        await boss.open();
        const bw = await boss.request({ type: 'login', role: 'console', username: 'zhangmin', password });
        assert.equal(bw.type, 'welcome', JSON.stringify(bw));
        const upd = await boss.request({ type: 'update_elder', elder_id: next.elder_id, visit_consent: false });
        assert.equal(upd.type, 'elder_updated', JSON.stringify(upd));
        boss.close();
        await context.setGeolocation({ latitude: next.lat + 0.009, longitude: next.lon, accuracy: 8 });
        await vpage.click('.visit-result button');  // 知道了
        const item = vpage.locator(`#visits li.visit[data-elder="${next.elder_id}"]`);
        await item.locator('button.start-visit').click();
        await item.locator('.consent', { hasText: '老人未同意入户探访' }).waitFor();
        assert.match(await item.locator('.consent').innerText(), /has not agreed[^]*E_BAD_STATE/);
        await item.locator('.consent').scrollIntoViewIfNeeded();
        await vshot('19-visit-no-consent');
        holdChanges = false;
        await item.locator('button.encounter').click();
        const door = vpage.locator(`.visit-open[data-elder="${next.elder_id}"]`);
        await door.waitFor();
        // 1 km from the home: started, and flagged for the supervisor.
        assert.match(await door.innerText(), /门口探访/);
        assert.equal(await door.locator('.flag[data-flag="far_from_home"]').count(), 1);
        await door.locator('button.finish-visit').click();
        await vpage.locator(`.visit-result[data-elder="${next.elder_id}"] .flag[data-flag="far_from_home"]`).waitFor();
      }
      // In English too.
      await vpage.click('#lang');
      await vpage.locator('#tab-visits', { hasText: "Today's visits" }).waitFor();
      const done = vpage.locator(`#visits li.visit[data-elder="${target.elder_id}"]`);
      assert.match(await done.innerText(), /Done/);
      assert.match(await done.innerText(), /Plan: \d+ a (week|month) · at home/);
      await vpage.click('#lang');
      raw.close();
      assert.deepEqual(vpage.problems, []);
      await context.close();
    });

    it("follows up the worker's hazards, and finishes visits the page has no record of", async () => {
      assert.ok(visitor, 'the visit list test found a worker');
      const password = centre.tokens.password;
      const DAY = 86400000;
      const fieldClient = async () => {
        const c = new Client(centre.wsUrl);
        await c.open();
        c.welcome = await c.request({ type: 'login', role: 'field', username: visitor.account.username, password });
        assert.equal(c.welcome.type, 'welcome', JSON.stringify(c.welcome));
        return c;
      };
      // "2026-12-10" of a time, in China (the server's days), as the page writes it.
      const chinaDay = (ms) => {
        const d = new Date(ms + 8 * 3600000);
        return `${d.getUTCMonth() + 1}月${d.getUTCDate()}日`;
      };

      // The hazard filed in the visit above is on the worker's list, due hazard_days (7) later.
      let raw = await fieldClient();
      let list = await raw.request({ type: 'my_visits' });
      assert.ok(Array.isArray(list.hazards), JSON.stringify(list));
      const filed = list.hazards.find((z) => z.text === '厨房燃气软管老化开裂');
      assert.ok(filed, JSON.stringify(list.hazards));
      assert.equal(filed.owner_id, visitor.worker);
      assert.equal(filed.area, 'home_safety');
      assert.equal(filed.due_ms - filed.found_ms, 7 * DAY);

      // Past its day: found eight days ago, as the server's database has it after a restart.
      raw.close();
      consoleWs.close();
      await centre.stop();
      const now = Date.now();
      db(`UPDATE hazards SET found_ms = ${now - 8 * DAY}, due_ms = ${now - DAY} WHERE id = ${filed.hazard_id}`);
      await centre.start();
      consoleWs = await centre.console();
      // The demo's history may have left this worker other hazards: the centre closes
      // them, so that the list ends empty below.
      for (const z of list.hazards.filter((h) => h.hazard_id !== filed.hazard_id)) {
        const r = await consoleWs.request({ type: 'close_hazard', hazard_id: z.hazard_id, note: '演示数据' });
        assert.equal(r.type, 'hazard_closed', JSON.stringify(r));
      }
      raw = await fieldClient();
      list = await raw.request({ type: 'my_visits' });
      const overdue = list.hazards.find((z) => z.hazard_id === filed.hazard_id);
      assert.ok(overdue && overdue.due_ms < Date.now(), JSON.stringify(list.hazards));

      // An elder of this worker's who is not on today's list: a supervisor asks for a visit
      // every day, so one is due (or late) today.
      const onList = list.visits.map((v) => v.elder_id);
      const [extra] = db(`SELECT id, name, lat, lon FROM elders WHERE paired_worker = ${visitor.worker}
        AND visit_consent = 1 AND unknown_caller = 0 AND id NOT IN (${onList.join(',') || 0}) ORDER BY id LIMIT 1`);
      assert.ok(extra, `worker ${visitor.worker} has no other elder who agreed to visits at home`);
      await dailyVisitsAtHome([extra.id]);
      const due = (await raw.request({ type: 'my_visits' })).visits.find((v) => v.elder_id === extra.id);
      assert.ok(due && (due.state === 'due' || due.state === 'late'), JSON.stringify(due));
      assert.equal(due.open_visit_id, undefined);

      // The worker's phone, at that elder's home; visits_changed can be held back (below).
      const vpage = await phonePage(browser, { permissions: ['geolocation'],
        geolocation: { latitude: extra.lat, longitude: extra.lon, accuracy: 8 } });
      const context = vpage.context();
      let holdChanges = false;
      await context.routeWebSocket(() => true, (ws) => {
        const server = ws.connectToServer();
        server.onMessage((m) => {
          if (holdChanges && String(m).includes('"visits_changed"')) return;
          ws.send(m);
        });
      });
      await vpage.goto(centre.pageUrl({ token: raw.welcome.session }));
      await vpage.locator('#who', { hasText: visitor.account.name }).waitFor();
      await vpage.click('#tab-visits');
      const item = vpage.locator(`#visits li.visit[data-elder="${extra.id}"]`);

      // 1. Started here, then the page's record of it lost: the server's open_visit_id
      // brings the finish form back, with the draft typed before.
      await item.locator('button.start-visit').click();
      let open = vpage.locator(`.visit-open[data-elder="${extra.id}"]`);
      await open.waitFor();
      const visitId = Number(await open.getAttribute('data-visit'));
      await open.locator('textarea[name="visit-notes"]').fill('老人午睡，家属在家');
      const saved = JSON.parse(await vpage.evaluate(() => localStorage.getItem('anxin.visit')));
      assert.equal(saved.visit.visit_id, visitId);
      const onServer = (await raw.request({ type: 'my_visits' })).visits.find((v) => v.elder_id === extra.id);
      assert.equal(onServer.open_visit_id, visitId);
      assert.ok(Math.abs(onServer.started_ms - Date.now()) < 60000, JSON.stringify(onServer));
      await vpage.evaluate(() => localStorage.removeItem('anxin.visit'));
      await vpage.reload();
      open = vpage.locator(`.visit-open[data-visit="${visitId}"]`);
      await open.waitFor();
      const resumed = await open.innerText();
      assert.ok(resumed.includes(extra.name), resumed);
      assert.match(resumed, /在另一部手机上或此前开始/);
      assert.match(resumed, /\d{2}:\d{2} 开始/);
      assert.equal(await open.locator('textarea[name="visit-notes"]').inputValue(), '老人午睡，家属在家');
      assert.match(await item.innerText(), /探访进行中/);
      assert.equal(await vpage.locator('#visits button.start-visit').count(), 0);
      // The page keeps its own record again.
      assert.equal(JSON.parse(await vpage.evaluate(() => localStorage.getItem('anxin.visit'))).visit.visit_id, visitId);
      await open.locator('input[name="varea"][value="health"]').check();
      await open.locator('button.add-hazard').click();
      await open.locator('select[name="hazard-area"]').selectOption('health');
      await open.locator('textarea[name="hazard-text"]').fill('过期药品未清理');
      await vpage.evaluate(() => window.scrollBy(0, document.querySelector('.visit-open').getBoundingClientRect().top - 70));
      await vpage.screenshot({ path: join(shots, '20-visit-resumed.png') });
      await open.locator('button.finish-visit').click();
      const result = vpage.locator(`.visit-result[data-visit="${visitId}"]`);
      await result.waitFor();
      assert.match(await result.innerText(), /已登记隐患 #\d+/);
      assert.equal(await vpage.evaluate(() => localStorage.getItem('anxin.visit')), null);
      list = await raw.request({ type: 'my_visits' });
      let mine = list.visits.find((v) => v.elder_id === extra.id);
      assert.equal(mine.state, 'done');
      assert.equal(mine.open_visit_id, undefined);
      const fresh = list.hazards.find((z) => z.text === '过期药品未清理');
      assert.ok(fresh, JSON.stringify(list.hazards));
      const card = await consoleWs.request({ type: 'elder', elder_id: extra.id });
      assert.ok(card.visits.some((v) => v.notes === '老人午睡，家属在家' && v.worker_id === visitor.worker),
        JSON.stringify(card.visits));

      // 2. Begun on another phone (this raw connection): the page shows it to finish.
      const other = await raw.request({ type: 'start_visit', elder_id: extra.id, lat: extra.lat, lon: extra.lon,
        mode: 'home' });
      assert.equal(other.type, 'visit_started', JSON.stringify(other));
      await vpage.click('#visits-refresh');
      open = vpage.locator(`.visit-open[data-visit="${other.visit_id}"]`);
      await open.waitFor();
      assert.match(await open.innerText(), /在另一部手机上或此前开始/);
      await open.locator('button.finish-visit').click();
      await vpage.locator(`.visit-result[data-visit="${other.visit_id}"]`).waitFor();
      mine = (await raw.request({ type: 'my_visits' })).visits.find((v) => v.elder_id === extra.id);
      assert.equal(mine.open_visit_id, undefined);

      // The hazards under the list: elder, area and text in words, the day to fix it by,
      // red once past.
      await vpage.click('#visits-refresh');
      const box = vpage.locator('#hazards-box');
      const late = box.locator(`.hazard-item[data-hazard-id="${filed.hazard_id}"]`);
      const young = box.locator(`.hazard-item[data-hazard-id="${fresh.hazard_id}"]`);
      await late.waitFor();
      await young.waitFor();
      assert.match(await box.locator('h3').innerText(), /隐患跟进/);
      const lateText = await late.innerText();
      for (const want of [filed.name, '居家安全', '厨房燃气软管老化开裂', `已超期 · 整改期限 ${chinaDay(now - DAY)}`]) {
        assert.ok(want && lateText.includes(want), `${want} in ${lateText}`);
      }
      assert.match(await late.getAttribute('class'), /\boverdue\b/);
      assert.equal(await late.locator('.hz-late').evaluate((el) => getComputedStyle(el).color), 'rgb(179, 38, 30)');
      const youngText = await young.innerText();
      for (const want of [extra.name, '健康管理', '过期药品未清理', `整改期限 ${chinaDay(fresh.due_ms)}`]) {
        assert.ok(youngText.includes(want), `${want} in ${youngText}`);
      }
      assert.ok(!/已超期/.test(youngText), youngText);
      assert.doesNotMatch(await young.getAttribute('class'), /\boverdue\b/);
      await vpage.click('.visit-result button');  // 知道了
      await box.scrollIntoViewIfNeeded();
      await vpage.evaluate(() => window.scrollBy(0, document.getElementById('hazards-box').getBoundingClientRect().top - 70));
      await vpage.waitForTimeout(150);
      await box.screenshot({ path: join(shots, '21-hazards.png') });

      // Closing asks for a note: none (or blanks) is refused by the page, and nothing is sent.
      await late.locator('button.hz-close-btn').click();
      await late.locator('button.hz-confirm').click();
      await late.locator('.need-note', { hasText: '请填写整改情况后再销号' }).waitFor();
      await late.locator('textarea[name="hazard-note"]').fill('   ');
      await late.locator('button.hz-confirm').click();
      await late.locator('.need-note').waitFor();
      await vpage.waitForTimeout(150);
      await late.screenshot({ path: join(shots, '22-hazard-note-needed.png') });
      assert.ok((await raw.request({ type: 'my_visits' })).hazards.some((z) => z.hazard_id === filed.hazard_id));
      // With a note it goes, and the server agrees.
      await late.locator('textarea[name="hazard-note"]').fill('已协助更换燃气软管，试火无泄漏');
      await late.locator('button.hz-confirm').click();
      await late.waitFor({ state: 'detached' });
      await vpage.locator('.notice.info', { hasText: '隐患已销号' }).waitFor();
      list = await raw.request({ type: 'my_visits' });
      assert.ok(!list.hazards.some((z) => z.hazard_id === filed.hazard_id), JSON.stringify(list.hazards));
      const report = await consoleWs.request({ type: 'visit_report' });
      assert.ok(!report.open_hazards.some((z) => z.hazard_id === filed.hazard_id));
      assert.ok(report.open_hazards.some((z) => z.hazard_id === fresh.hazard_id));

      // Closed by the centre while the page still shows it: the refusal is said in words
      // and the hazard leaves the list.
      holdChanges = true;
      const byCentre = await consoleWs.request({ type: 'close_hazard', hazard_id: fresh.hazard_id, note: '中心已电话确认处理' });
      assert.equal(byCentre.type, 'hazard_closed', JSON.stringify(byCentre));
      await young.locator('button.hz-close-btn').click();
      await young.locator('textarea[name="hazard-note"]').fill('已清理过期药品');
      await young.locator('button.hz-confirm').click();
      const refusal = vpage.locator('.notice.error', { hasText: '隐患销号未成功：此隐患已经销号' });
      await refusal.waitFor();
      assert.match(await refusal.innerText(), /E_BAD_STATE/);
      await young.waitFor({ state: 'detached' });
      holdChanges = false;
      await box.locator('.hz-empty', { hasText: '没有待整改的隐患' }).waitFor();
      // In English too.
      await vpage.click('#lang');
      await box.locator('h3', { hasText: 'Hazards to follow up' }).waitFor();
      await vpage.click('#lang');
      raw.close();
      assert.deepEqual(vpage.problems, []);
      await context.close();
    });

    it('had no script errors and no CSP refusals', () => {
      assert.deepEqual(problems(), []);
    });
  });
}

if (suite === 'timeout') {
  describe('offer timeouts on the open page', () => {
    before(setUp);
    after(tearDown);

    it('an unanswered offer shows that it has expired', async () => {
      await logIn(1);
      await goOnDuty(centre.devices[2]);
      const id = await dispatchTo(centre.devices[2], 1);
      await page.locator('.offer[data-state="offered"]').waitFor();
      await page.locator('.offer[data-state="expired"]').waitFor({ timeout: (centre.offerTimeoutS + 15) * 1000 });
      assert.match(await page.locator('.offer').innerText(), /派单已超时/);
      await shot('13-offer-expired');
      // The server agrees: the offer lapsed, and moved on.
      const inc = await serverIncident(id);
      assert.equal(inc.assignments.find((a) => a.worker_id === 1).state, 'expired');
      await page.click('.offer button');  // 知道了
      await page.locator('.offer').waitFor({ state: 'detached' });
      assert.match(await page.locator('#tasks').innerText(), /已超时/);
    });

    it('an accept queued offline after its offer lapsed is refused with the server\'s error', async () => {
      const id = await dispatchTo(centre.devices[3], 1);
      const offer = page.locator('.offer[data-state="offered"]');
      await offer.waitFor();
      const expires = Number(await page.locator('.offer .countdown').getAttribute('data-expires'));
      consoleWs.close();
      await centre.stop();
      await page.locator('#banner.down').waitFor();
      await page.click('.offer button.accept');
      await page.locator('.offer .pending').waitFor();
      // Stay down until the offer has lapsed.
      const serverNow = await page.evaluate(() => Date.now());
      await sleep(Math.max(0, expires - serverNow) + 1500);
      await centre.start();
      await waitBackOnline();
      const refusal = page.locator('.notice.error', { hasText: /接单未成功/ });
      await refusal.waitFor();
      assert.match(await refusal.innerText(), /E_BAD_STATE|E_UNKNOWN_ASSIGNMENT/);
      await page.locator('.offer[data-state="expired"]').waitFor();
      await shot('14-refused-after-expiry');
      consoleWs = await centre.console();
      const inc = await serverIncident(id);
      assert.notEqual(inc.assignments.find((a) => a.worker_id === 1).state, 'accepted');
    });

    it('had no script errors and no CSP refusals', () => {
      assert.deepEqual(problems(), []);
    });
  });
}
