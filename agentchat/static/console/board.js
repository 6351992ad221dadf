// The manager's live board: every agent (status, chats in hand against their limit, customers waiting on them)
// and every department (waiting, in progress, longest wait), each linking to the chats it counts in the inbox.
import {all} from "./api.js";
import {el, clear, attempt, duration, since, table, STATUSES} from "./ui.js";
import {waitingSince, slaLevel} from "./inboxlist.js";

const REFRESH_MS = 5000;

export class BoardView {
  constructor(main, store) {
    this.store = store;
    this.chats = [];
    this.body = el("div", {id: "board"}, el("p", {class: "loading"}, "Loading…"));
    main.append(el("div", {class: "page wide"},
      el("div", {class: "page-head"}, el("h1", {}, "Live board"),
        el("p", {class: "muted"}, "Who is working on what, now. Numbers link to the chats they count.")),
      this.body));
    // Chats change often: fetched again at most every half second after an event. Statuses come with the event.
    this.off = store.on((event) => {
      if (event.Type.startsWith("Chat") || event.Type === "Resync") {
        clearTimeout(this.pending);
        this.pending = setTimeout(() => this.load(), 500);
      } else if (event.Type === "AgentStatusChanged" || event.Type === "AgentUpdated") this.render();
    });
    this.timer = setInterval(() => this.render(), REFRESH_MS);
    this.load();
  }

  destroy() {
    this.off();
    clearTimeout(this.pending);
    clearInterval(this.timer);
  }

  async load() {
    const chats = await attempt(() => all("GetChats", {Status: ["Unassigned", "Assigned"]}));
    if (!chats) return;
    this.chats = chats;
    this.render();
  }

  render() {
    const limit = this.store.settings.UnassignedChatsWaitingMinutes;
    const longest = (chats) => {
      const waits = chats.map(waitingSince).filter(Boolean).map(since);
      return waits.length ? Math.max(...waits) : null;
    };
    const wait = (seconds) => el("span", {class: "wait", dataset: {sla: slaLevel(seconds, limit)}},
      seconds === null ? "–" : duration(seconds));
    const link = (href, text, label) => el("a", {href, "aria-label": label}, String(text));
    const agents = [...this.store.agents.values()].filter((a) => a.Enabled)
      .sort((a, b) => b.StatusID - a.StatusID || a.Name.localeCompare(b.Name));
    const held = (agent) => this.chats.filter((c) => c.Status === "Assigned" && c.AgentID === agent.AgentID);
    const departments = (ids) => ids.map((id) => (this.store.department(id) || {}).Name || id).join(", ");
    const agentRows = table("Agents now", [
      {label: "Agent", value: (a) => a.Name},
      {label: "Status", value: (a) => el("span", {class: `status s${a.StatusID}`}, STATUSES[a.StatusID])},
      {label: "Chats in hand", value: (a) => {
        const count = held(a).length;
        return el("span", {class: "load"},
          link(`#/inbox?tab=all&agent=${a.AgentID}`, `${count} of ${a.MaxConcurrentChats}`,
            `${a.Name}: ${count} of ${a.MaxConcurrentChats} chats`),
          el("meter", {min: 0, max: a.MaxConcurrentChats, value: count, high: a.MaxConcurrentChats - 0.5,
            "aria-hidden": "true"}));
      }},
      {label: "Awaiting a reply", value: (a) => held(a).filter((c) => waitingSince(c)).length},
      {label: "Longest customer wait", value: (a) => wait(longest(held(a)))},
      {label: "Departments", value: (a) => departments(a.DepartmentIDs)},
    ], agents, "No enabled agents.");
    const inDepartment = (d) => this.chats.filter((c) => c.DepartmentID === d.DepartmentID);
    const departmentRows = table("Departments now", [
      {label: "Department", value: (d) => d.Name},
      {label: "Waiting", value: (d) => {
        const count = inDepartment(d).filter((c) => c.Status === "Unassigned").length;
        return link(`#/inbox?tab=all&agent=none&department=${d.DepartmentID}`, count, `${d.Name}: ${count} waiting`);
      }},
      {label: "In progress", value: (d) => {
        const count = inDepartment(d).filter((c) => c.Status === "Assigned").length;
        return link(`#/inbox?tab=all&department=${d.DepartmentID}`, count, `${d.Name}: ${count} in progress`);
      }},
      {label: "Longest wait", value: (d) => wait(longest(inDepartment(d)))},
      {label: "Agents online", value: (d) => agents.filter((a) => a.StatusID === 4 &&
        a.DepartmentIDs.includes(d.DepartmentID)).length},
    ], this.store.departments.filter((d) => d.Enabled), "No departments.");
    clear(this.body,
      el("section", {class: "panel", "aria-labelledby": "board-agents"}, el("h2", {id: "board-agents"}, "Agents"),
        agentRows),
      el("section", {class: "panel", "aria-labelledby": "board-departments"},
        el("h2", {id: "board-departments"}, "Departments"), departmentRows));
  }
}
