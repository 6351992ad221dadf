// The agent WebSocket: reconnects with a growing pause and asks for what it missed by LastEventID.
export class EventSocket {
  constructor({token, onEvent, onResync, onUnauthorized, onState}) {
    this.token = token;
    this.onEvent = onEvent;
    this.onResync = onResync;
    this.onUnauthorized = onUnauthorized;
    this.onState = onState || (() => {});
    this.lastEventId = null;
    this.retryMs = 1000;
    this.stopped = false;
    this.ws = null;
  }

  start() {
    this.stopped = false;
    this.connect();
    this.ping = setInterval(() => this.send({Type: "Ping"}), 25000);
    this.online = () => { if (!this.ws) this.connect(); };
    window.addEventListener("online", this.online);
    // The browser knows the network is gone before the socket times out: say so at once, and retry.
    this.offline = () => { if (this.ws) this.ws.close(4000, "offline"); };
    window.addEventListener("offline", this.offline);
  }

  stop() {
    this.stopped = true;
    clearInterval(this.ping);
    clearTimeout(this.timer);
    window.removeEventListener("online", this.online);
    window.removeEventListener("offline", this.offline);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  connect() {
    clearTimeout(this.timer);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let address = `${scheme}//${location.host}/ws?SessionToken=${encodeURIComponent(this.token)}`;
    if (this.lastEventId !== null) address += `&LastEventID=${this.lastEventId}`;
    const ws = new WebSocket(address);
    this.ws = ws;
    this.onState("connecting");
    ws.onopen = () => { this.retryMs = 1000; this.onState("live"); };
    ws.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (_) { return; }
      if (event.Type === "Connected") {
        if (this.lastEventId === null) this.lastEventId = event.Data.LastEventID;
        return;
      }
      if (event.Type === "ResyncRequired") {
        this.lastEventId = event.Data.LastEventID;
        this.onResync();
        return;
      }
      if (event.Type === "Pong") return;
      if (event.EventID) this.lastEventId = Math.max(this.lastEventId || 0, event.EventID);
      try { this.onEvent(event); } catch (error) { console.error("event handler failed", event, error); }
    };
    ws.onclose = (close) => {
      if (this.ws === ws) this.ws = null;
      if (this.stopped) return;
      if (close.code === 4401) { this.onUnauthorized(); return; }
      this.onState("reconnecting");
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30000);
    };
  }
}
