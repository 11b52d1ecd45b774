// The page's connection to anxin-server (docs/protocol.md, role "field"). Owns the
// WebSocket, reconnecting with backoff, logging in (login with a password, or hello
// with the session kept in localStorage), matching replies to requests by "req", a
// heartbeat, and the offline queue of the worker's actions (persisted, so a report
// typed in a cellar survives a reload). It knows nothing of the page: app.js decides
// what to send and what a reply means.

const SESSION_KEY = 'anxin.session';
const QUEUE_KEY = 'anxin.queue';
const BACKOFF_S = [1, 2, 4, 8, 15];  // seconds; a dispatch page must not sleep long
const PING_EVERY_MS = 20000;
const PONG_WITHIN_MS = 8000;
const REPLY_WITHIN_MS = 20000;  // the server replies after its commit: long past this, something is wrong
// The worker's actions: kept while offline and sent once back. Anything else
// (subscribe, my_tasks, ping) is only worth sending live.
const QUEUEABLE = new Set(['duty', 'position', 'accept', 'decline', 'on_scene', 'complete']);

export class Link {
  // hooks: status(info), message(frame), ready(welcome) -> Promise, needLogin(reason), sent(item, reply|error)
  constructor(url, hooks) {
    this.url = url;
    this.hooks = hooks;
    this.ws = null;
    this.state = 'connecting';  // connecting | login | authenticating | ready | offline
    this.attempt = 0;
    this.retryAt = 0;
    this.pending = new Map();   // req -> {resolve, reject, frame}
    this.reqPrefix = Math.random().toString(36).slice(2, 8);
    this.reqCount = 0;
    this.loginWaiter = null;    // {username, password, resolve, reject}
    this.subject = null;
    const saved = JSON.parse(localStorage.getItem(QUEUE_KEY) || 'null');
    this.queue = saved?.items || [];
    this.queueSubject = saved?.subject || null;
    this.flushing = false;
    window.addEventListener('online', () => this.reconnectNow());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.reconnectNow();
    });
  }

  get session() { return localStorage.getItem(SESSION_KEY); }
  set session(v) { v ? localStorage.setItem(SESSION_KEY, v) : localStorage.removeItem(SESSION_KEY); }

  start() { this.connect(); }

  nextReq() { return `${this.reqPrefix}-${++this.reqCount}`; }

  status(extra = {}) {
    this.hooks.status({ state: this.state, retryAt: this.retryAt, queued: this.queue.length, ...extra });
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.state = 'connecting';
    this.status();
    let ws;
    try {
      ws = new WebSocket(this.url, 'anxin-v1');
    } catch (e) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.authenticate();
    ws.onmessage = (e) => this.receive(e.data);
    ws.onclose = () => { if (this.ws === ws) this.lost(); };
    ws.onerror = () => {};  // onclose follows
  }

  authenticate() {
    if (this.session) {
      this.state = 'authenticating';
      this.status();
      this.raw({ type: 'hello', v: 1, role: 'field', token: this.session }).then(
        (welcome) => this.welcomed(welcome),
        () => {
          // The session has expired or was revoked: ask for the password again.
          this.session = null;
          this.state = 'login';
          this.status();
          this.hooks.needLogin('expired');
        });
    } else if (this.loginWaiter) {
      this.sendLogin();
    } else {
      this.state = 'login';
      this.status();
      this.hooks.needLogin('none');
    }
  }

  // Resolves with the welcome, or rejects with the server's error.
  login(username, password) {
    return new Promise((resolve, reject) => {
      this.loginWaiter = { username, password, resolve, reject };
      if (this.ws?.readyState === WebSocket.OPEN && this.state === 'login') this.sendLogin();
      else if (this.state === 'offline') this.reconnectNow();
      else if (!this.ws) this.connect();  // closed while the worker was typing: open one now
    });
  }

  sendLogin() {
    const w = this.loginWaiter;
    this.state = 'authenticating';
    this.status();
    this.raw({ type: 'login', role: 'field', username: w.username, password: w.password }).then(
      (welcome) => {
        this.loginWaiter = null;
        if (welcome.session) this.session = welcome.session;
        w.resolve(welcome);
        this.welcomed(welcome);
      },
      (err) => {
        // The connection dropped under the login: it is sent again on the next one.
        if (err.code === 'OFFLINE') return;
        this.loginWaiter = null;
        this.state = 'login';
        this.status();
        w.reject(err);
      });
  }

  async welcomed(welcome) {
    this.attempt = 0;
    this.subject = welcome.subject;
    // A queue left by someone else on this phone is never sent under this login.
    if (this.queueSubject && this.queueSubject !== welcome.subject) this.queue = [];
    this.queueSubject = welcome.subject;
    this.saveQueue();
    this.state = 'ready';
    this.status();
    this.heartbeat();
    try {
      await this.hooks.ready(welcome);  // subscribes, then tells us which queued actions still apply
    } catch (e) {
      // No snapshot (dropped, or no reply): start afresh rather than show stale tasks.
      if (e.code !== 'OFFLINE') this.ws?.close();
    }
  }

  // Sends the queued actions in order, each after the previous one's reply.
  // keep(frame) may drop an action the server has already applied.
  async flush(keep = () => true) {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.state === 'ready' && this.queue.length) {
        const item = this.queue[0];
        if (!keep(item.frame)) {
          this.queue.shift();
          this.saveQueue();
          this.settle(item, { type: 'ok', skipped: true });
          continue;
        }
        let reply, error;
        this.inFlight = item;
        try {
          reply = await this.raw(item.frame);
        } catch (e) {
          if (e.code === 'OFFLINE') return;  // stays queued; the next welcome flushes it
          if (e.code === 'TIMEOUT') {
            // Stays queued: start afresh, and the next snapshot shows whether it applied.
            this.ws?.close();
            return;
          }
          error = e;
        }
        this.queue.splice(this.queue.indexOf(item), 1);
        this.saveQueue();
        this.settle(item, reply, error);
      }
    } finally {
      this.inFlight = null;
      this.flushing = false;
      this.status();
    }
  }

  settle(item, reply, error) {
    const waiter = this.waiters?.get(item.frame.req);
    this.waiters?.delete(item.frame.req);
    if (waiter) error ? waiter.reject(error) : waiter.resolve(reply);
    else this.hooks.sent(item, reply, error);  // queued before a reload: nobody waits
  }

  // A request: resolves with its reply, rejects with {code, message}. The worker's
  // actions are queued while offline (and the promise waits); others fail at once.
  request(frame) {
    frame = { ...frame, req: this.nextReq() };
    if (!QUEUEABLE.has(frame.type)) {
      if (this.state !== 'ready') return Promise.reject({ code: 'OFFLINE', message: 'not connected' });
      return this.raw(frame);
    }
    if (frame.type === 'position') {
      // Only the newest position matters (the one on its way stays: its reply is awaited).
      for (const old of this.queue.filter((i) => i.frame.type === 'position' && i !== this.inFlight)) {
        this.queue.splice(this.queue.indexOf(old), 1);
        this.settle(old, { type: 'ok', skipped: true });
      }
    }
    this.queue.push({ frame, queuedMs: Date.now() });
    this.saveQueue();
    this.waiters ??= new Map();
    const p = new Promise((resolve, reject) => this.waiters.set(frame.req, { resolve, reject }));
    if (this.state === 'ready') this.flush();
    else this.status();
    return p;
  }

  isQueued(req) { return this.queue.some((i) => i.frame.req === req); }

  saveQueue() {
    localStorage.setItem(QUEUE_KEY, JSON.stringify({ subject: this.queueSubject, items: this.queue }));
  }

  // Sends one frame now and waits for the reply with its req.
  raw(frame) {
    if (!frame.req) frame = { ...frame, req: this.nextReq() };
    return new Promise((resolve, reject) => {
      if (this.ws?.readyState !== WebSocket.OPEN) {
        reject({ code: 'OFFLINE', message: 'not connected' });
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(frame.req);
        reject({ code: 'TIMEOUT', message: 'no reply' });
      }, REPLY_WITHIN_MS);
      this.pending.set(frame.req, {
        resolve: (m) => { clearTimeout(timer); resolve(m); },
        reject: (e) => { clearTimeout(timer); reject(e); },
        frame });
      this.ws.send(JSON.stringify(frame));
    });
  }

  receive(text) {
    let m;
    try { m = JSON.parse(text); } catch { return; }
    if (m.type === 'pong') this.lastPong = Date.now();
    const p = m.req && this.pending.get(m.req);
    if (p) {
      this.pending.delete(m.req);
      m.type === 'error' ? p.reject({ code: m.code, message: m.message }) : p.resolve(m);
      return;
    }
    this.hooks.message(m);
  }

  heartbeat() {
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.pingTimer = setInterval(() => {
      if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return clearInterval(this.pingTimer);
      const sent = Date.now();
      this.raw({ type: 'ping' }).catch(() => {});
      setTimeout(() => {
        // No answer: the network is gone without the socket noticing (a phone in a lift).
        if (this.ws === ws && !(this.lastPong >= sent)) ws.close();
      }, PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  lost() {
    // The server closes a connection that has not logged in within a few seconds; a
    // page waiting for the worker to type needs none until they press the button.
    const waitingForLogin = this.state === 'login' && !this.session && !this.loginWaiter;
    clearInterval(this.pingTimer);
    for (const [, p] of this.pending) p.reject({ code: 'OFFLINE', message: 'connection lost' });
    this.pending.clear();
    this.ws = null;
    if (waitingForLogin) return;
    this.scheduleRetry();
  }

  scheduleRetry() {
    const base = BACKOFF_S[Math.min(this.attempt, BACKOFF_S.length - 1)] * 1000;
    this.attempt++;
    const delay = base * (0.8 + Math.random() * 0.4);
    this.retryAt = Date.now() + delay;
    this.state = 'offline';
    this.status();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.state !== 'offline') return;
    this.attempt = 0;
    this.connect();
  }

  // Forgets the session here at once, whatever the server answers (or whether it
  // answers at all), then asks the server to end it and starts over with a fresh
  // connection for the next login. The caller may show the login form as soon as this
  // returns its promise: nothing of the session is left in storage by then.
  async logout() {
    const session = this.session;
    this.session = null;
    this.queue = [];
    this.queueSubject = null;
    this.saveQueue();
    const ws = this.ws;
    if (ws) ws.onclose = null;  // the server closes it after the logout: no banner for that
    if (session && this.state === 'ready') {
      await Promise.race([this.raw({ type: 'logout' }).catch(() => {}),
        new Promise((r) => setTimeout(r, 2000))]);
    }
    if (this.ws === ws) this.ws = null;
    clearInterval(this.pingTimer);
    ws?.close();
    this.connect();
  }
}
