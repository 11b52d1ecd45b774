// Test harness for the field page: a temporary demo database, a real anxin-server on
// free ports serving the page itself (its /field/ mount, with the server's own
// Content-Security-Policy), raw WebSocket clients for a console, a vendor platform
// and a worker, and headless chromium.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import WebSocket from 'ws';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const FIELD_DIR = resolve(HERE, '../../ws-gateway/field');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
    s.on('error', rej);
  });
}

async function waitFor(check, what, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function sql(db, query) {
  const out = execFileSync('sqlite3', ['-json', db, query], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

export class Centre {
  constructor({ serverBin, simBin }) {
    this.serverBin = serverBin;
    this.simBin = simBin;
    this.dir = mkdtempSync(join(tmpdir(), 'anxin-field-'));
    this.db = join(this.dir, 'centre.db');
  }

  // The demo database; its logins (one password for all) are in DB.tokens.json.
  generate() {
    execFileSync(this.simBin, ['generate', '--db', this.db, '--elders', '200', '--workers', '10'], { stdio: 'pipe' });
    this.tokens = JSON.parse(readFileSync(`${this.db}.tokens.json`, 'utf8'));
    this.workers = sql(this.db, 'SELECT id, name FROM workers WHERE id IN (1, 2) ORDER BY id');
    // generate stamps worker positions hours ahead of now, and the server ignores a
    // position older than the one it has: date the demo's positions ten minutes ago.
    sql(this.db, `UPDATE workers SET position_ms = ${Date.now() - 600000} WHERE position_ms > ${Date.now()}`);
    this.cred = {};
    for (const n of [1, 2]) {
      const account = this.tokens.accounts.find((a) => a.kind === 'worker' && a.username === `w${n}`);
      if (!account) throw new Error(`no login for worker ${n} in the tokens file`);
      this.cred[n] = { username: account.username, password: this.tokens.password };
    }
    // SOS buttons, each in a different elder's home.
    this.devices = sql(this.db, `SELECT d.id, d.vendor, d.elder_id, e.name AS elder, e.lat, e.lon, e.address
      FROM devices d JOIN elders e ON e.id = d.elder_id WHERE d.kind = 'sos_button' ORDER BY d.id LIMIT 6`);
    if (this.devices.length < 4) throw new Error('the demo database has too few SOS buttons');
  }

  // On the same ports each time, so a restart looks like an outage to the page.
  async start({ offerTimeoutS = 12 } = {}) {
    this.port ??= await freePort();
    this.fieldPort ??= await freePort();
    this.offerTimeoutS = offerTimeoutS;
    const args = ['--db', this.db, '--port', String(this.port), '--interface', '127.0.0.1',
      '--field-port', String(this.fieldPort), '--field-root', FIELD_DIR,
      '--offer-timeout-s', String(offerTimeoutS), '--hello-timeout-s', '3'];
    this.log = '';
    this.proc = spawn(this.serverBin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr.on('data', (d) => { this.log += d; });
    await waitFor(() => this.log.includes('listening') || this.proc.exitCode !== null, 'anxin-server to listen');
    if (this.proc.exitCode !== null) throw new Error(`anxin-server did not start:\n${this.log}`);
  }

  async stop() {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    if (p.exitCode === null) {
      const done = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([done, sleep(5000).then(() => p.kill('SIGKILL'))]);
    }
  }

  async close() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  get wsUrl() { return `ws://127.0.0.1:${this.port}/`; }

  // The page's address; its socket goes to the same origin.
  pageUrl(query = {}) {
    const q = new URLSearchParams(query);
    return `http://127.0.0.1:${this.fieldPort}/field/${q.size ? `?${q}` : ''}`;
  }

  async client(role, token) {
    const c = new Client(this.wsUrl);
    await c.open();
    const w = await c.request({ type: 'hello', v: 1, role, token });
    if (w.type !== 'welcome') throw new Error(`hello as ${role} failed: ${JSON.stringify(w)}`);
    return c;
  }
  // A worker's connection, logged in with their password; c.welcome.session is theirs.
  async worker(n) {
    const c = new Client(this.wsUrl);
    await c.open();
    c.welcome = await c.request({ type: 'login', role: 'field', ...this.cred[n] });
    if (c.welcome.type !== 'welcome') throw new Error(`login of w${n} failed: ${JSON.stringify(c.welcome)}`);
    return c;
  }
  console() { return this.client('console', this.tokens.consoles[0].token); }
  vendor(v) { return this.client('device', this.tokens.vendors[v]); }

  // A real alarm from device `dev`, over the vendor platform's connection.
  async alarm(dev, seq) {
    const platform = await this.vendor(dev.vendor);
    const ack = await platform.request({ type: 'alarm', device: dev.id, seq, kind: 'sos',
      device_time_ms: Date.now(), battery_pct: 80, detail: {} });
    platform.close();
    if (ack.type !== 'ack') throw new Error(`alarm refused: ${JSON.stringify(ack)}`);
    return ack.incident_id;
  }
}

// A raw protocol client.
export class Client {
  constructor(url) { this.url = url; this.frames = []; this.waiters = []; this.n = 0; }
  open() {
    return new Promise((res, rej) => {
      this.ws = new WebSocket(this.url, 'anxin-v1');
      this.ws.on('open', res);
      this.ws.on('error', rej);
      this.ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        this.frames.push(m);
        this.waiters = this.waiters.filter((w) => !w(m));
      });
    });
  }
  // Resolves with the first frame (already received or coming) that matches.
  next(match, timeoutMs = 10000) {
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error('no matching frame')), timeoutMs);
      this.waiters.push((m) => {
        if (!match(m)) return false;
        clearTimeout(timer);
        this.frames.splice(this.frames.indexOf(m), 1);
        res(m);
        return true;
      });
    });
  }
  // The reply to frame; or also any frame that matches `or` (an error the server
  // could not attach a req to).
  request(frame, or = () => false) {
    const req = `t${++this.n}`;
    this.ws.send(JSON.stringify({ ...frame, req }));
    return this.next((m) => m.req === req || or(m));
  }
  close() { this.ws.close(); }
}

// Playwright starts chromium with a fresh temporary profile (--user-data-dir) of its
// own on every launch, and removes it on close.
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A phone-sized page that fails the test on any console error or CSP violation.
export async function phonePage(browser, { width = 360, height = 740, locale = 'zh-CN', ...more } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: width < 600 ? 2 : 1,
    isMobile: width < 600, hasTouch: width < 600, locale, ...more });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(m.text()); });
  page.on('pageerror', (e) => page.problems.push(String(e)));
  return page;
}

export function artifactsDir(path) { mkdirSync(path, { recursive: true }); return path; }
