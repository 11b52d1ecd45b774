// The worker's position from the browser's geolocation, while on duty. Decides when
// a fix is worth sending: the first, then at most every 30 s, or sooner after a move
// of more than 50 m. A stationary phone gets no watch callbacks, so the position is
// also asked for every 2 minutes, to keep it from going stale on the server (which
// penalises positions older than 10 minutes). Geolocation needs a secure context
// (https, or localhost): on plain http to a LAN address it is unavailable, and the
// page falls back to a position typed by hand. A visit's start and finish need the
// position of that moment, on duty or not: once() asks for one fix.

const MIN_INTERVAL_MS = 30000;
const MIN_MOVE_M = 50;
const REFRESH_MS = 120000;

export function distanceM(lat1, lon1, lat2, lon2) {
  const r = 6371000, rad = Math.PI / 180;
  const dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
  const a = Math.sin(dlat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dlon / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(a)));
}

function toFix(p) {
  return { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy ?? 0),
    at_ms: Math.round(p.timestamp || Date.now()), seenMs: Date.now() };
}

export class Geo {
  // onFix({lat, lon, accuracy_m, at_ms}) when a fix should be sent; onState(state)
  // with 'off' | 'waiting' | 'ok' | 'denied' | 'unavailable'.
  constructor(onFix, onState) {
    this.onFix = onFix;
    this.onState = onState;
    this.state = 'off';
    this.watch = null;
    this.last = null;      // last fix seen
    this.lastSent = null;  // last fix passed to onFix
  }

  get supported() { return window.isSecureContext && 'geolocation' in navigator; }

  set(state) {
    if (this.state !== state) { this.state = state; this.onState(state); }
  }

  start() {
    if (this.watch !== null) return;
    if (!this.supported) { this.set('unavailable'); return; }
    this.set('waiting');
    const opts = { enableHighAccuracy: true, maximumAge: 10000, timeout: 60000 };
    this.watch = navigator.geolocation.watchPosition((p) => this.fix(p), (e) => this.failed(e), opts);
    this.refresh = setInterval(() => navigator.geolocation.getCurrentPosition(
      (p) => this.fix(p, true), () => {}, opts), REFRESH_MS);
  }

  stop() {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    clearInterval(this.refresh);
    this.watch = null;
    if (this.state !== 'denied' && this.state !== 'unavailable') this.set('off');
  }

  failed(e) {
    if (e.code === e.PERMISSION_DENIED) {
      this.stop();
      this.set('denied');
    } else if (!this.last) {
      this.set('unavailable');  // no fix at all yet; keep watching, one may come
    }
  }

  // One fix now (or one seen in the last maxAgeMs): resolves with {lat, lon,
  // accuracy_m, at_ms}, or null when there is none to be had within timeoutMs (no
  // secure context, not allowed, no signal). It does not change the watch's state.
  once(timeoutMs = 10000, maxAgeMs = 30000) {
    if (this.last && Date.now() - this.last.seenMs < maxAgeMs) return Promise.resolve(this.last);
    if (!this.supported || this.state === 'denied') return Promise.resolve(null);
    return new Promise((resolve) => {
      const done = (f) => { clearTimeout(timer); resolve(f); };
      const timer = setTimeout(() => resolve(null), timeoutMs + 1000);
      navigator.geolocation.getCurrentPosition((p) => { this.last = toFix(p); done(this.last); }, () => done(null),
        { enableHighAccuracy: true, maximumAge: maxAgeMs, timeout: timeoutMs });
    });
  }

  fix(p, periodic = false) {
    const f = toFix(p);
    this.last = f;
    this.set('ok');
    const s = this.lastSent;
    const due = !s || periodic || f.at_ms - s.at_ms >= MIN_INTERVAL_MS ||
      distanceM(s.lat, s.lon, f.lat, f.lon) > MIN_MOVE_M;
    if (due) {
      this.lastSent = f;
      this.onFix(f);
    }
  }
}
