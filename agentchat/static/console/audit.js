// Audit log (managers): who did what and when, filtered by agent, action, target and days, exportable as CSV;
// new entries arrive live (AuditEntryAdded) while the first page is shown.
import {get, download} from "./api.js";
import {el, clear, attempt, form, table, pager, time} from "./ui.js";

const PAGE_SIZE = 50;

// The actions a manager filters by most; any other can be typed (docs/audit.md lists them all).
const ACTIONS = ["AgentLoggedOn", "AgentLogonFailed", "AgentLoggedOff", "PasswordResetRequested", "PasswordSet",
  "AgentCreated", "AgentUpdated", "DepartmentCreated", "DepartmentUpdated", "SettingsUpdated", "CustomerErased",
  "ChatExported", "ReportExported", "AuditLogExported"];

function details(entry) {
  const changes = entry.Details && entry.Details.Changes;
  if (changes) {
    return Object.entries(changes).map(([key, c]) => `${key}: ${JSON.stringify(c.From)} → ${JSON.stringify(c.To)}`)
      .join("; ");
  }
  const text = JSON.stringify(entry.Details || {});
  return text === "{}" ? "" : text;
}

export class AuditView {
  constructor(main, store) {
    this.store = store;
    this.filter = {};
    this.page = 1;
    this.build(main);
    attempt(() => this.load(1));
    this.off = store.on((event) => {
      if (event.Type === "AuditEntryAdded" && this.page === 1) {
        clearTimeout(this.pending);
        this.pending = setTimeout(() => this.load(1).catch(() => {}), 300);
      }
    });
  }

  destroy() {
    this.off();
    clearTimeout(this.pending);
  }

  agentName(entry) {
    if (entry.AgentName) return entry.AgentName;
    if (entry.AgentID === null) return entry.Details && entry.Details.EmailAddress ? entry.Details.EmailAddress : "—";
    const agent = this.store.agents.get(entry.AgentID);
    return agent ? agent.Name : `Agent ${entry.AgentID}`;
  }

  build(main) {
    const agents = [["", "Anyone"], ...[...this.store.agents.values()].map((a) => [a.AgentID, a.Name])];
    const filter = form([
      {name: "AgentID", label: "Who", type: "select", options: agents, numeric: true},
      {name: "Action", label: "Action", type: "select", options: [["", "Any"], ...ACTIONS.map((a) => [a, a])]},
      {name: "From", label: "From", type: "date"},
      {name: "To", label: "to", type: "date"},
    ], {submit: "Show", onSubmit: async (v) => {
      this.filter = Object.fromEntries(Object.entries(v).filter(([, value]) => value !== null && value !== ""));
      await this.load(1);
    }});
    filter.classList.add("filters");
    const exportButton = el("button", {type: "button", onclick: () => attempt(() =>
      download("/api/ExportAuditLog?" + new URLSearchParams(this.filter), "audit-log.csv"))}, "Export CSV");
    this.list = el("div", {id: "audit-log"}, el("p", {class: "loading"}, "Loading…"));
    main.append(el("div", {class: "page wide"},
      el("div", {class: "page-head"}, el("h1", {}, "Audit log"), el("div", {class: "actions"}, exportButton)),
      el("section", {class: "panel", "aria-label": "Audit log entries"}, filter, this.list)));
  }

  async load(page) {
    const data = await get("GetAuditLog", {...this.filter, Page: page, PageSize: PAGE_SIZE});
    this.page = page;
    clear(this.list, table("Audit log", [
      {label: "When", value: (e) => time(e.At)},
      {label: "Who", value: (e) => this.agentName(e)},
      {label: "Action", value: (e) => e.Action},
      {label: "Target", value: (e) => (e.TargetType ? `${e.TargetType}${e.TargetID ? " " + e.TargetID : ""}` : "")},
      {label: "Address", value: (e) => e.ClientIP || ""},
      {label: "Details", value: (e) => details(e)},
    ], data.Items, "No entries match."),
    data.Items.length || page > 1 ? pager("Audit log pages", data, (n) => attempt(() => this.load(n))) : null);
  }
}
