// The console's shell: log on, the top bar (status, alerts, log off), the views and the event socket.
import {get, post, logon, logoff, session, all} from "./api.js";
import {EventSocket} from "./socket.js";
import {el, clear, toast, clearToasts, attempt, form, dialog, toggleAlerts, restoreAlerts, alertsLabel, alertsWanted, notify,
  STATUSES} from "./ui.js";
import {AgentView} from "./agent.js";
import {CustomersView} from "./customers.js";
import {HistoryView} from "./history.js";
import {MentionsView} from "./mentions.js";
import {SearchView} from "./search.js";
import {MANAGER_VIEWS} from "./manager.js";

const root = document.getElementById("app");

// What every view shares: the caller, reference data, and the live events.
export const store = {
  me: null,
  inboxChat: null,   // the chat open in the inbox, reopened when the agent comes back to it
  departments: [],
  agents: new Map(),
  settings: {},
  listeners: new Set(),
  on(listener) { this.listeners.add(listener); return () => this.listeners.delete(listener); },
  emit(event) { for (const listener of [...this.listeners]) listener(event); },
  // A frame to the server on the event socket (dropped while it is not connected).
  send(message) { if (socket) socket.send(message); },
  get isManager() { return this.me && this.me.RoleID === 2; },
  department(id) { return this.departments.find((d) => d.DepartmentID === id); },
  async loadDepartments() { this.departments = (await get("GetDepartments")).Items; },
  async loadAgents() {
    this.agents = new Map((await all("GetAgents")).map((a) => [a.AgentID, a]));
  },
  async loadSettings() {
    this.settings = Object.assign({}, ...(await get("GetSettings")).Settings);
  },
};

let socket = null;
let current = null;

function showLogon(message) {
  if (socket) socket.stop();
  socket = null;
  if (current && current.destroy) current.destroy();
  current = null;
  document.title = "Log on · AgentChat";
  const specs = [
    {name: "EmailAddress", label: "E-mail address", type: "email", required: true, autocomplete: "username"},
    {name: "Password", label: "Password", type: "password", required: true, autocomplete: "current-password"},
  ];
  const logonForm = form(specs, {submit: "Log on", onSubmit: async (v) => {
    await logon(v.EmailAddress || "", v.Password || "");
    await start();
  }});
  const forgot = el("button", {type: "button", class: "link", onclick: () => resetDialog(logonForm)},
    "Forgot your password?");
  clear(root, el("main", {id: "main", class: "logon"},
    el("h1", {}, "AgentChat"),
    el("p", {class: "muted"}, "Log on to answer your customers."),
    message && el("p", {class: "notice", role: "alert"}, message),
    logonForm, forgot));
  root.removeAttribute("aria-busy");
  logonForm.elements.EmailAddress.focus();
}

function resetDialog(logonForm) {
  const box = dialog("Reset your password",
    el("p", {}, "We will e-mail you a link to choose a new password."),
    form([{name: "EmailAddress", label: "E-mail address", type: "email", required: true,
      value: logonForm.elements.EmailAddress.value}], {
      submit: "Send the link",
      onSubmit: async (v) => {
        await get("RequestPasswordReset", {EmailAddress: v.EmailAddress || ""});
        box.close();
        toast("If that address has an account, a reset link is on its way.");
      },
    }));
}

// Each view: {id (the #/id route), label, create(main, store) -> an object with an optional destroy()}.
const AGENT_VIEWS = [
  {id: "inbox", label: "Inbox", create: (main, s, r) => new AgentView(main, s, r)},
  {id: "customers", label: "Customers", create: (main, s) => new CustomersView(main, s)},
  {id: "history", label: "History", create: (main, s) => new HistoryView(main, s)},
  {id: "mentions", label: "Mentions", create: (main, s) => new MentionsView(main, s)},
  {id: "search", label: "Search", create: (main, s) => new SearchView(main, s)},
];

const views = () => (store.isManager ? [...AGENT_VIEWS, ...MANAGER_VIEWS] : AGENT_VIEWS);

// "#/inbox/12?tab=all&agent=3": the view, what it shows (a chat), and how (a tab, filters).
export function parseHash() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?", 2);
  const [name, ...rest] = path.split("/");
  return {name: name || "inbox", rest: rest.join("/"), params: new URLSearchParams(query)};
}

function route() {
  const {name} = parseHash();
  return views().find((v) => v.id === name) || AGENT_VIEWS[0];
}

async function start() {
  const me = session.agent;
  if (!me) return showLogon();
  store.me = me;
  try {
    await Promise.all([store.loadDepartments(), store.loadAgents(), store.loadSettings()]);
  } catch (error) {
    if (!session.token) return;
    toast(error.message, "error");
  }
  store.me = store.agents.get(me.AgentID) || me;
  renderShell();
  socket = new EventSocket({
    token: session.token,
    onEvent: (event) => { applyShared(event); store.emit(event); },
    onResync: () => { store.emit({Type: "Resync"}); },
    onUnauthorized: () => { session.clear(); showLogon("Your session has ended; please log on again."); },
    onState: (state) => {
      const badge = document.getElementById("live");
      if (badge) {
        badge.textContent = state === "live" ? "Live" : state === "connecting" ? "Connecting…" : "Reconnecting…";
        badge.dataset.state = state;
      }
      connectionBanner(state);
    },
  });
  socket.start();
}

// Lost events mean missed customers: a banner across the page says so until the socket is back (a short
// "connecting" between attempts keeps it up).
function connectionBanner(state) {
  let banner = document.getElementById("offline");
  if (state === "live") {
    if (banner) { banner.remove(); toast("Connected again: the inbox is up to date."); }
    return;
  }
  if (state !== "reconnecting" || banner) return;
  banner = el("div", {id: "offline", class: "offline-banner", role: "alert"},
    el("strong", {}, "Connection lost."),
    " New chats and messages will not show until it is back; reconnecting…",
    el("button", {type: "button", onclick: () => { if (socket) socket.connect(); }}, "Reconnect now"));
  document.querySelector(".topbar").after(banner);
}

function applyShared(event) {
  const data = event.Data || {};
  if (event.Type === "MentionReceived") {
    // Heard on every view: a colleague needs this agent in a chat.
    const by = store.agents.get(data.ByAgentID);
    const who = by ? by.Name : "A colleague";
    toast(`${who} mentioned you: ${(data.Text || "").slice(0, 120)} — see Mentions.`);
    notify(`${who} mentioned you`, (data.Text || "").slice(0, 120));
  }
  if (event.Type === "AgentUpdated") store.agents.set(data.AgentID, data);
  if (event.Type === "AgentStatusChanged" && store.agents.has(data.AgentID)) {
    store.agents.get(data.AgentID).StatusID = data.StatusID;
  }
  if ((event.Type === "AgentUpdated" || event.Type === "AgentStatusChanged") && data.AgentID === store.me.AgentID) {
    store.me = {...store.me, ...data};
    const select = document.getElementById("my-status");
    if (select) select.value = String(store.me.StatusID);
  }
}

function renderShell() {
  document.title = "AgentChat console";
  const status = el("select", {id: "my-status", "aria-label": "My status",
    onchange: async () => {
      const value = Number(status.value);
      const updated = await attempt(() => post("UpdateAgent", {AgentID: store.me.AgentID, StatusID: value}));
      if (updated) store.me = updated; else status.value = String(store.me.StatusID);
    }}, Object.entries(STATUSES).reverse().map(([id, name]) => el("option", {value: id}, name)));
  status.value = String(store.me.StatusID);
  const alerts = el("button", {type: "button", id: "alerts", "aria-pressed": String(alertsWanted()), onclick: toggleAlerts},
    alertsLabel());
  restoreAlerts();
  // The manager's setup pages sit under one "Setup" menu, so that the bar is one row on a laptop.
  const link = ({id, label}) => el("li", {}, el("a", {href: "#/" + id, dataset: {view: id}}, label));
  const setupViews = views().filter((v) => v.setup);
  const setup = setupViews.length ? el("details", {class: "setup"}, el("summary", {}, "Setup"),
    el("ul", {}, setupViews.map(link))) : null;
  const nav = el("nav", {"aria-label": "Views"}, el("ul", {}, views().filter((v) => !v.setup).map(link),
    setup ? el("li", {}, setup) : null));
  const main = el("main", {id: "main", tabindex: "-1"});
  // On a phone the bar is one line: the views and the agent's controls fold behind "Menu".
  const header = el("header", {class: "topbar"});
  const menu = el("button", {type: "button", class: "menu-button", "aria-expanded": "false", "aria-controls": "bar-menu",
    onclick: () => {
      const open = header.classList.toggle("menu-open");
      menu.setAttribute("aria-expanded", String(open));
    }}, "Menu");
  clear(header,
    el("span", {class: "brand"}, store.settings.CompanyName || "AgentChat"),
    el("span", {id: "live", class: "live", role: "status"}, "Connecting…"),
    menu,
    el("div", {class: "bar-menu", id: "bar-menu"},
      nav,
      el("div", {class: "me"},
        el("span", {class: "who"}, store.me.Name),
        status, alerts,
        el("button", {type: "button", onclick: async () => { await attempt(logoff); showLogon(); }}, "Log off"))));
  clear(root, header, main);
  root.removeAttribute("aria-busy");
  show(main);
}

function show(main = document.getElementById("main")) {
  if (!main) return;
  if (current && current.destroy) current.destroy();
  const view = route();
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.view === view.id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const setup = document.querySelector("nav details.setup");
  if (setup) { setup.open = false; setup.classList.toggle("current", Boolean(view.setup)); }
  const header = document.querySelector(".topbar");
  if (header) header.classList.remove("menu-open");
  clear(main);
  clearToasts();
  document.title = view.label + " · AgentChat";
  currentId = view.id;
  current = view.create(main, store, parseHash());
}

let currentId = null;

session.onExpired = () => { session.clear(); showLogon("Your session has ended; please log on again."); };
// Within a view (another chat, another tab) the view follows the address itself: the browser's Back and
// Forward move between chats without rebuilding the page.
window.addEventListener("hashchange", () => {
  if (!session.token || !store.me) return;
  if (current && current.navigate && route().id === currentId) current.navigate(parseHash());
  else show();
});
// Keep the session alive while the console is open (the service ends idle sessions).
setInterval(() => { if (session.token) get("KeepAlive").catch(() => {}); }, 5 * 60 * 1000);

if (session.token) start(); else showLogon();
