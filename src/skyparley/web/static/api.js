// The service's HTTP API and event stream, with the party's bearer token.

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.reason ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code ?? "http";
    this.field = error?.field ?? null;
    this.reason = error?.reason ?? "";
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async request(method, path, body) {
    const init = { method, headers: { Authorization: `Bearer ${this.token}` } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    const type = r.headers.get("content-type") ?? "";
    const data = type.includes("json") ? await r.json() : await r.text();
    if (!r.ok) throw new ApiError(r.status, data?.error);
    return data;
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body) {
    return this.request("POST", path, body ?? {});
  }
}

/**
 * The party's events over the WebSocket /v1/stream, resumed from the last cursor seen after
 * any disconnect (no gap, no duplicate). `onEvent(event)` gets each event in cursor order;
 * `onState("live" | "connecting" | "off")` the connection's state.
 */
export class EventStream {
  constructor(token, { onEvent, onState, onAuthFailed }) {
    this.token = token;
    this.cursor = 0;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onAuthFailed = onAuthFailed;
    this.closed = false;
    this.retryMs = 500;
    this.ws = null;
  }

  open() {
    if (this.closed) return;
    this.onState("connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const q = new URLSearchParams({ cursor: String(this.cursor), token: this.token });
    const ws = new WebSocket(`${scheme}://${location.host}/v1/stream?${q}`);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 500;
      this.onState("live");
    };
    ws.onmessage = (msg) => {
      const event = JSON.parse(msg.data);
      if (event.cursor <= this.cursor) return;
      this.cursor = event.cursor;
      this.onEvent(event);
    };
    ws.onclose = (e) => {
      this.ws = null;
      if (this.closed) return;
      if (e.code === 4401) {
        this.onState("off");
        this.onAuthFailed();
        return;
      }
      this.onState("connecting");
      setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10000);
    };
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
    this.onState("off");
  }
}
