// The inbox's rows: enough to triage without opening a chat. Who the customer is, the last message (who said
// it, its start or the kind of file, when), how long the customer has waited (and whether that is too long),
// unread messages. GetChats carries all of it (CustomerName, LastMessage): no call per row.
import {el, duration, since, time} from "./ui.js";

export const TABS = [
  {id: "mine", label: "Mine", list: "mine", empty: "No open chats."},
  {id: "waiting", label: "Waiting", list: "queue", empty: "No one is waiting."},
  {id: "all", label: "All open", list: "all-open", empty: "No open chats.", managers: true},
];

export function displayName(chat) {
  return chat.CustomerName || chat.CustomerPhoneNumber || `Customer ${chat.CustomerID}`;
}

const FILE_KINDS = [[/^image\//, "Photo"], [/^audio\//, "Audio"], [/^video\//, "Video"], [/^application\/pdf/, "PDF"]];

export function fileKind(type) {
  const found = FILE_KINDS.find(([pattern]) => pattern.test(type || ""));
  return found ? found[1] : "File";
}

// "You: Sure, the red one" · "Olga: …" · "Photo" · the customer's own words without a prefix.
export function lastLine(chat, store) {
  const message = chat.LastMessage;
  if (!message) return "No message yet";
  let who = "";
  if (message.Sender === "Agent") {
    const agent = store.agents.get(message.AgentID);
    who = message.AgentID === store.me.AgentID ? "You: " : `${agent ? agent.Name.split(" ")[0] : "Agent"}: `;
  }
  const text = (message.Text || "").replace(/\s+/g, " ").trim();
  const file = message.FileType ? fileKind(message.FileType) : "";
  return who + ([file, text].filter(Boolean).join(" · ") || "(no text)");
}

// Since when the customer waits for someone: a queued chat since it was queued; an open chat whose newest message
// is the customer's, since that message. Null when the ball is in the customer's court.
export function waitingSince(chat) {
  if (chat.Status === "Unassigned") return chat.QueuedAt || chat.CreatedAt;
  if (chat.Status === "Assigned" && chat.LastMessage && chat.LastMessage.Sender === "Customer") {
    return chat.LastMessage.CreatedAt;
  }
  return null;
}

// The company's "Alert when a chat waits" minutes are the limit: amber from half of it, red past it.
export function slaLevel(seconds, limitMinutes) {
  if (seconds === null || seconds === undefined) return "";
  const limit = Math.max(1, Number(limitMinutes) || 5) * 60;
  return seconds >= limit ? "late" : seconds >= limit / 2 ? "soon" : "ok";
}

// The text of a row's waiting clock; ticks every second (AgentView.tick).
export function waitText(node, limitMinutes) {
  const seconds = since(node.dataset.since);
  const level = slaLevel(seconds, limitMinutes);
  node.dataset.sla = level;
  node.closest(".chat-item").dataset.sla = level;
  return `${node.dataset.label} ${duration(seconds)}${level === "late" ? " — late" : ""}`;
}

// Oldest waiting first, then the most recent conversation: who needs someone now comes first.
export function byUrgency(a, b) {
  const wa = waitingSince(a), wb = waitingSince(b);
  if (wa && wb) return Date.parse(wa) - Date.parse(wb);
  if (wa || wb) return wa ? -1 : 1;
  return Date.parse(b.LastMessageAt || b.AssignedAt || b.CreatedAt) - Date.parse(a.LastMessageAt || a.AssignedAt || a.CreatedAt);
}

export function matches(chat, search, store) {
  if (!search) return true;
  const department = store.department(chat.DepartmentID);
  const agent = chat.AgentID ? store.agents.get(chat.AgentID) : null;
  const haystack = [chat.CustomerName, chat.CustomerPhoneNumber, chat.LastMessage && chat.LastMessage.Text,
    department && department.Name, agent && agent.Name, chat.Channel].filter(Boolean).join(" ").toLowerCase();
  return search.toLowerCase().split(/\s+/).filter(Boolean).every((word) => haystack.includes(word));
}

// One row. options: {store, selected, unread, showAgent, href, onGrab, limitMinutes}
export function chatRow(chat, {store, selected, unread, showAgent, href, onGrab, limitMinutes}) {
  const name = displayName(chat);
  const department = store.department(chat.DepartmentID);
  const agent = chat.AgentID ? store.agents.get(chat.AgentID) : null;
  const waiting = waitingSince(chat);
  const message = chat.LastMessage;
  const meta = [department ? department.Name : "No department", chat.Channel,
    showAgent && agent ? `with ${agent.Name}` : null].filter(Boolean).join(" · ");
  let clock = null;
  if (waiting) {
    const label = chat.Status === "Unassigned" ? "waiting"
      : chat.AgentID === store.me.AgentID ? "awaiting your reply" : "awaiting a reply";
    clock = el("span", {class: "wait", dataset: {since: waiting, label}});
    clock.textContent = label;
  }
  const item = el("li", {class: "chat-item" + (selected ? " selected" : ""), dataset: {chatId: chat.ChatID}},
    el("a", {class: "open", href, "aria-current": selected ? "true" : undefined},
      el("span", {class: "row-top"}, el("span", {class: "name"}, name),
        el("span", {class: "when"}, message ? time(message.CreatedAt) : "")),
      el("span", {class: "snippet" + (message && message.Sender === "Customer" ? " theirs" : "")},
        lastLine(chat, store)),
      el("span", {class: "meta"}, meta),
      clock),
    unread ? el("span", {class: "badge", "aria-label": `${unread} unread`}, String(unread)) : null,
    onGrab ? el("button", {type: "button", class: "primary grab", "aria-label": `Grab chat with ${name}`,
      tabindex: "-1", onclick: () => onGrab(chat.ChatID)}, "Grab") : null);
  if (clock) clock.textContent = waitText(clock, limitMinutes);
  return item;
}
