// The agent's inbox: the lists (Mine, Waiting, and for managers All open), the conversation, the customer.
// Each chat has its own address (#/inbox/<ChatID>), so the browser's Back and Forward move between chats.
import {get, post, all} from "./api.js";
import {el, clear, toast, attempt, notify, dialog} from "./ui.js";
import {TABS, chatRow, byUrgency, matches, waitText, displayName} from "./inboxlist.js";
import {Conversation} from "./conversation.js";
import {TemplatePicker} from "./templates.js";

// How long "Customer is typing…" stays after the last CustomerTyping (the visitor's page sends one every 2 s).
const TYPING_SHOWN_MS = 4000;
// How often the reply box tells the customer "Agent is typing…" while the agent types (the server relays at most
// one every 2 s per chat).
const TYPING_SENT_EVERY_MS = 2000;
const OPEN_STATUSES = ["Unassigned", "Assigned"];

export class AgentView {
  constructor(main, store, route) {
    this.store = store;
    this.chats = new Map();      // ChatID -> GetChats' item: waiting, mine, and (managers) every open chat
    this.unread = loadUnread(store.me.AgentID);   // ChatID -> count, kept across reloads
    this.open = null;            // the chat on screen: ChatDetail
    this.fetching = new Set();   // ChatIDs whose row is being fetched (a chat first met in an event)
    this.tags = [];
    this.canned = [];
    this.filters = {search: "", agent: "", department: ""};
    this.tab = null;
    this.build(main);
    this.off = store.on((event) => this.onEvent(event));
    this.keys = (event) => this.shortcut(event);
    document.addEventListener("keydown", this.keys);
    this.ticker = setInterval(() => this.tick(), 1000);
    // Coming back to the inbox from another view reopens the chat that was open.
    if (!route.rest && store.inboxChat) {
      route = {...route, rest: String(store.inboxChat)};
      history.replaceState(null, "", `#/inbox/${store.inboxChat}`);
    }
    this.load().then(() => this.navigate(route));
  }

  destroy() {
    this.off();
    document.removeEventListener("keydown", this.keys);
    clearInterval(this.ticker);
    clearTimeout(this.typingTimer);
    document.title = "AgentChat";
  }

  // ---- layout ----------------------------------------------------------------------------------------
  build(main) {
    const tabs = TABS.filter((t) => !t.managers || this.store.isManager);
    this.tabButtons = new Map();
    this.panels = new Map();
    this.lists = new Map();
    this.counts = new Map();
    const tablist = el("div", {class: "tabs", role: "tablist", "aria-label": "Chat lists"});
    for (const tab of tabs) {
      const count = el("span", {class: "count"});
      const button = el("button", {type: "button", role: "tab", id: `tab-${tab.id}`, "aria-controls": `panel-${tab.id}`,
        onclick: () => this.chooseTab(tab.id), onkeydown: (e) => this.tabKeys(e, tabs, tab.id)}, tab.label, " ", count);
      const list = el("ul", {class: "chat-list", id: tab.list});
      const panel = el("div", {role: "tabpanel", id: `panel-${tab.id}`, "aria-labelledby": `tab-${tab.id}`}, list);
      this.tabButtons.set(tab.id, button);
      this.counts.set(tab.id, count);
      this.lists.set(tab.id, list);
      this.panels.set(tab.id, panel);
      tablist.append(button);
    }
    const search = el("input", {type: "search", id: "chat-search", placeholder: "Name, number, message…",
      autocomplete: "off", oninput: () => { this.filters.search = search.value.trim(); this.renderLists(); }});
    this.allFilters = this.store.isManager ? this.managerFilters() : null;
    this.listsPane = el("section", {class: "lists", "aria-label": "Chats"},
      el("div", {class: "list-head"}, el("h2", {id: "lists-title"}, "Chats"),
        el("button", {type: "button", class: "link", onclick: () => shortcutHelp(), "aria-keyshortcuts": "?"},
          "Shortcuts"),
        el("button", {type: "button", class: "primary", onclick: () => this.grab(null), "aria-keyshortcuts": "g"},
          "Grab next")),
      tablist,
      el("div", {class: "field search"}, el("label", {for: "chat-search", class: "visually-hidden"}, "Search chats"),
        search),
      this.allFilters,
      [...this.panels.values()]);
    this.conversation = el("section", {class: "conversation", "aria-label": "Conversation"});
    this.acceptDroppedFiles();
    this.customer = el("aside", {class: "customer", "aria-label": "Customer"});
    this.root = el("div", {class: "inbox", dataset: {pane: "lists"}}, this.listsPane, this.conversation, this.customer);
    main.append(el("h1", {class: "visually-hidden"}, "Inbox"), this.root);
    this.showEmpty();
  }

  // A file dropped on the conversation, or pasted in the reply box, becomes the reply's attachment.
  acceptDroppedFiles() {
    const pane = this.conversation;
    const hasFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
    pane.addEventListener("dragover", (event) => {
      if (!hasFiles(event) || !pane.querySelector("#attach")) return;
      event.preventDefault();
      pane.classList.add("dropping");
    });
    pane.addEventListener("dragleave", (event) => { if (!pane.contains(event.relatedTarget)) pane.classList.remove("dropping"); });
    pane.addEventListener("drop", (event) => {
      pane.classList.remove("dropping");
      if (!hasFiles(event)) return;
      event.preventDefault();
      this.takeFile(event.dataTransfer.files);
    });
    pane.addEventListener("paste", (event) => {
      if (event.target.id === "reply" && event.clipboardData && event.clipboardData.files.length) {
        event.preventDefault();
        this.takeFile(event.clipboardData.files);
      }
    });
  }

  takeFile(files) {
    const input = this.conversation.querySelector("#attach");
    if (!input || !files.length) return;
    const chosen = new DataTransfer();
    chosen.items.add(files[0]);
    input.files = chosen.files;
    input.dispatchEvent(new Event("change"));
    this.conversation.querySelector("#reply").focus();
  }

  // A manager's All open: by agent and by department.
  managerFilters() {
    const agent = el("select", {id: "filter-agent", onchange: () => { this.filters.agent = agent.value; this.renderLists(); }});
    const department = el("select", {id: "filter-department",
      onchange: () => { this.filters.department = department.value; this.renderLists(); }});
    this.fillManagerFilters = () => {
      const agents = [...this.store.agents.values()].filter((a) => a.Enabled).sort((a, b) => a.Name.localeCompare(b.Name));
      clear(agent, el("option", {value: ""}, "Every agent"), el("option", {value: "some"}, "In progress (any agent)"),
        el("option", {value: "none"}, "Waiting (no agent)"),
        agents.map((a) => el("option", {value: String(a.AgentID)}, a.Name)));
      clear(department, el("option", {value: ""}, "Every department"),
        this.store.departments.map((d) => el("option", {value: String(d.DepartmentID)}, d.Name)));
      agent.value = this.filters.agent;
      department.value = this.filters.department;
    };
    this.fillManagerFilters();
    return el("div", {class: "filters-row", id: "all-filters"},
      el("div", {class: "field"}, el("label", {for: "filter-agent"}, "Agent"), agent),
      el("div", {class: "field"}, el("label", {for: "filter-department"}, "Department"), department));
  }

  tabKeys(event, tabs, id) {
    const at = tabs.findIndex((t) => t.id === id);
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = tabs[(at + step + tabs.length) % tabs.length];
    this.chooseTab(next.id);
    this.tabButtons.get(next.id).focus();
  }

  chooseTab(id) {
    if (!this.tabButtons.has(id)) id = "mine";
    this.tab = id;
    sessionStorage.setItem("agentchat.console.tab", id);
    for (const [tabId, button] of this.tabButtons) {
      const on = tabId === id;
      button.setAttribute("aria-selected", String(on));
      button.tabIndex = on ? 0 : -1;
      this.panels.get(tabId).hidden = !on;
    }
    if (this.allFilters) this.allFilters.hidden = id !== "all";
  }

  showEmpty() {
    this.open = null;
    clearTimeout(this.typingTimer);
    this.root.dataset.pane = "lists";
    clear(this.conversation, el("p", {class: "empty"}, "Choose a chat, or grab the next waiting one."));
    clear(this.customer, el("p", {class: "empty"}, "The customer's details show here."));
  }

  async load() {
    const me = this.store.me.AgentID;
    const [waiting, assigned, tags, canned] = await Promise.all([
      attempt(() => all("GetChats", {Status: "Unassigned"})),
      attempt(() => all("GetChats", this.store.isManager ? {Status: "Assigned"} : {Status: "Assigned", AgentID: me})),
      attempt(() => get("GetTags")),
      attempt(() => get("GetCannedResponses")),
    ]);
    this.chats.clear();
    for (const chat of [...(waiting || []), ...(assigned || [])]) this.chats.set(chat.ChatID, chat);
    for (const id of this.unread.keys()) if (!this.chats.has(id)) this.unread.delete(id);
    this.tags = (tags ? tags.Items : []).flatMap((g) => g.Enabled ? g.Tags.filter((t) => t.Enabled)
      .map((t) => ({...t, Label: `${g.Name}: ${t.Name}`})) : []);
    this.allTags = new Map((tags ? tags.Items : []).flatMap((g) => g.Tags.map((t) => [t.TagID, `${g.Name}: ${t.Name}`])));
    this.canned = canned ? canned.Items : [];
    if (!this.tab) {
      const mineCount = [...this.chats.values()].filter((c) => this.isMine(c)).length;
      this.chooseTab(sessionStorage.getItem("agentchat.console.tab") || (mineCount ? "mine" : "waiting"));
    }
    this.renderLists();
    if (this.open) this.openChat(this.open.ChatID);
  }

  // The address says which chat is open and, from a dashboard or board link, which list and filters to show.
  navigate(route) {
    const params = route.params;
    if (params.has("tab")) this.chooseTab(params.get("tab"));
    if (params.has("agent")) this.filters.agent = params.get("agent");
    if (params.has("department")) this.filters.department = params.get("department");
    if (this.fillManagerFilters) this.fillManagerFilters();
    this.renderLists();
    const chatId = Number(route.rest) || null;
    if (chatId && (!this.open || this.open.ChatID !== chatId)) this.openChat(chatId);
    else if (!chatId && this.open) this.showEmpty();
    if (!chatId) this.store.inboxChat = null;
  }

  // Single keys, as in a mail client, outside text fields and dialogs: g grabs the next, j/k move down/up the
  // list, c closes the open chat (after a confirmation), / searches, ? lists them.
  shortcut(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || document.querySelector("dialog[open]")) return;
    if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
    const act = {
      "g": () => this.grab(null),
      "j": () => this.step(1),
      "k": () => this.step(-1),
      "c": () => { if (this.mine()) this.confirmClose(); },
      "/": () => this.root.querySelector("#chat-search").focus(),
      "?": () => shortcutHelp(),
    }[event.key];
    if (!act) return;
    event.preventDefault();
    act();
  }

  // The next or previous chat of the list on screen, opened.
  step(direction) {
    const links = [...this.lists.get(this.tab).querySelectorAll("a.open")];
    if (!links.length) return;
    const at = links.findIndex((a) => this.open && a.getAttribute("href") === `#/inbox/${this.open.ChatID}`);
    const next = links[at === -1 ? (direction > 0 ? 0 : links.length - 1) : Math.min(links.length - 1,
      Math.max(0, at + direction))];
    location.hash = next.getAttribute("href");
    next.focus();
  }

  isMine(chat) {
    return chat.Status === "Assigned" && chat.AgentID === this.store.me.AgentID;
  }

  // ---- lists -----------------------------------------------------------------------------------------
  renderLists() {
    const chats = [...this.chats.values()];
    const shown = {
      mine: chats.filter((c) => this.isMine(c)),
      waiting: chats.filter((c) => c.Status === "Unassigned"),
      all: chats.filter((c) => OPEN_STATUSES.includes(c.Status)),
    };
    const {search, agent, department} = this.filters;
    const limit = this.store.settings.UnassignedChatsWaitingMinutes;
    for (const [tab, list] of this.lists) {
      this.counts.get(tab).textContent = `(${shown[tab].length})`;
      let rows = shown[tab].filter((c) => matches(c, search, this.store));
      if (tab === "all") {
        const byAgent = {"": () => true, none: (c) => !c.AgentID, some: (c) => Boolean(c.AgentID)};
        rows = rows.filter((c) => (byAgent[agent] || ((x) => String(x.AgentID) === agent))(c)
          && (!department || String(c.DepartmentID) === department));
      }
      rows.sort(byUrgency);
      const empty = search || (tab === "all" && (agent || department)) ? "No chat matches."
        : TABS.find((t) => t.id === tab).empty;
      clear(list, rows.length ? rows.map((c) => chatRow(c, {
        store: this.store, selected: this.open && this.open.ChatID === c.ChatID, unread: this.unread.get(c.ChatID),
        showAgent: tab === "all", href: `#/inbox/${c.ChatID}`, limitMinutes: limit,
        onGrab: c.Status === "Unassigned" ? (id) => this.grab(id) : null,
      })) : el("li", {class: "empty"}, empty));
    }
    const waitingTab = this.tabButtons.get("waiting");
    waitingTab.classList.toggle("alert", shown.waiting.length > 0);
    saveUnread(this.store.me.AgentID, this.unread);
    this.renderTitle(shown.waiting.length);
  }

  // The browser tab tells an agent working elsewhere that someone waits or wrote.
  renderTitle(waiting) {
    const unread = [...this.unread.values()].reduce((a, b) => a + b, 0);
    document.title = [unread ? `(${unread}) ` : "", waiting ? `${waiting} waiting · ` : "", "Inbox · AgentChat"].join("");
  }

  tick() {
    const limit = this.store.settings.UnassignedChatsWaitingMinutes;
    for (const node of this.root.querySelectorAll(".wait[data-since]")) node.textContent = waitText(node, limit);
    this.checkWindow();
  }

  // A chat first met in an event carries no customer or last message: its row is fetched once (GetChats by its
  // customer, who has at most one open chat).
  async fetchRow(chat) {
    if (this.fetching.has(chat.ChatID)) return;
    this.fetching.add(chat.ChatID);
    const data = await get("GetChats", {CustomerID: chat.CustomerID, Status: OPEN_STATUSES, PageSize: 5})
      .catch(() => null);
    this.fetching.delete(chat.ChatID);
    const found = data && data.Items.find((c) => c.ChatID === chat.ChatID);
    const known = this.chats.get(chat.ChatID);
    if (!found || !known) return;
    for (const key of ["CustomerName", "CustomerPhoneNumber", "LastMessage"]) {
      if (!(key in known) || (key === "LastMessage" && !known.LastMessage)) known[key] = found[key];
    }
    this.renderLists();
  }

  // ---- events ----------------------------------------------------------------------------------------
  onEvent(event) {
    const data = event.Data || {};
    if (event.Type === "Resync") { this.load(); return; }
    if (event.Type.startsWith("Chat") && event.Type !== "ChatTagged" && data.ChatID) this.chatChanged(event, data);
    else if (event.Type === "ChatTagged") {
      const chat = this.chats.get(data.ChatID);
      if (chat) chat.TagIDs = data.TagIDs;
      if (this.open && this.open.ChatID === data.ChatID) { this.open.TagIDs = data.TagIDs; this.renderHeader(); }
    } else if (event.Type === "MessageReceived" || event.Type === "MessageSent") this.messageArrived(event, data);
    else if (event.Type === "NoteAdded") {
      if (this.open && this.open.ChatID === data.ChatID) this.addMessage(data);
    }
    else if (event.Type === "MessageUpdated") {
      // A customer's file arrived (or could not be fetched), or they reacted: the message is drawn again.
      const node = this.messages && this.messages.querySelector(`li[data-id="${data.MessageID}"]`);
      if (node && this.open && this.open.ChatID === data.ChatID) node.replaceWith(this.messageNode(data));
    } else if (event.Type === "MessageStatusChanged") {
      const node = this.messages && this.messages.querySelector(`li[data-id="${data.MessageID}"] .status`);
      if (node) node.textContent = data.DeliveryStatus + (data.FailureReason ? `: ${data.FailureReason}` : "");
    } else if (event.Type === "CustomerTyping") {
      // A socket catching up after a reconnect replays old ones: only a fresh event means typing now.
      const fresh = !event.At || Date.now() - Date.parse(event.At) < TYPING_SHOWN_MS * 2;
      if (fresh && this.open && this.open.ChatID === data.ChatID) this.showTyping(true);
    } else if (event.Type === "CustomerUpdated") {
      for (const chat of this.chats.values()) {
        if (chat.CustomerID === data.CustomerID && "Name" in data) chat.CustomerName = data.Name;
      }
      this.renderLists();
      if (this.open && this.open.CustomerID === data.CustomerID) {
        this.open.Customer = {...this.open.Customer, ...data};
        this.renderHeader();
        this.renderCustomer();
      }
    } else if (event.Type === "AgentStatusChanged" || event.Type === "AgentUpdated") {
      if (this.fillManagerFilters && event.Type === "AgentUpdated") this.fillManagerFilters();
    }
  }

  chatChanged(event, data) {
    const me = this.store.me.AgentID;
    const known = this.chats.get(data.ChatID);
    const chat = {...(known || {TagIDs: []}), ...data};
    delete chat.FromStatus;
    delete chat.ActorAgentID;
    const visible = chat.Status === "Unassigned" || this.isMine(chat) ||
      (this.store.isManager && chat.Status === "Assigned");
    if (visible) this.chats.set(chat.ChatID, chat); else this.chats.delete(chat.ChatID);
    if (visible && !("CustomerName" in chat)) this.fetchRow(chat);
    if (chat.Status === "Unassigned" && (!known || known.Status !== "Unassigned")) {
      const department = this.store.department(chat.DepartmentID);
      notify("A customer is waiting", department ? department.Name : "New chat");
    }
    if (!visible) this.unread.delete(chat.ChatID);
    this.renderLists();
    if (this.open && this.open.ChatID === chat.ChatID) {
      Object.assign(this.open, data);
      delete this.open.FromStatus;
      delete this.open.ActorAgentID;
      this.renderHeader();
      if (data.ActorAgentID === me) { /* my own action: its result is shown already */ }
      else if (event.Type === "ChatClosed") toast("This chat is closed.");
      else if (chat.Status === "Assigned" && chat.AgentID !== me && !this.store.isManager) {
        toast("Another agent has this chat now.");
      }
    }
  }

  messageArrived(event, data) {
    const chat = this.chats.get(data.ChatID);
    if (chat) {
      chat.LastMessageAt = data.CreatedAt;
      if (data.SenderType === "Customer" || data.SenderType === "Agent") {
        chat.LastMessage = {Sender: data.SenderType, AgentID: data.AgentID, Text: data.Text ? data.Text.slice(0, 200) : null,
          FileType: data.File ? data.File.FileType : null, CreatedAt: data.CreatedAt};
      }
    }
    if (this.open && this.open.ChatID === data.ChatID) {
      this.addMessage(data);
      if (event.Type === "MessageReceived") this.showTyping(false);
      if (data.SenderType === "Customer" && this.open.Channel === "WhatsApp") this.customerWrote(data);
    } else if (chat && event.Type === "MessageReceived" && this.isMine(chat)) {
      this.unread.set(data.ChatID, (this.unread.get(data.ChatID) || 0) + 1);
    }
    this.renderLists();
  }

  tellTyping() {
    const now = Date.now();
    if (!this.open || now - (this.typingSentAt || 0) < TYPING_SENT_EVERY_MS) return;
    this.typingSentAt = now;
    this.store.send({Type: "Typing", ChatID: this.open.ChatID});
  }

  showTyping(on) {
    clearTimeout(this.typingTimer);
    if (!this.typing) return;
    this.typing.textContent = on ? "Customer is typing…" : "";
    if (on) this.typingTimer = setTimeout(() => this.showTyping(false), TYPING_SHOWN_MS);
  }

  // ---- actions ---------------------------------------------------------------------------------------
  async grab(chatId) {
    const chat = await attempt(() => post("GrabChat", chatId ? {ChatID: chatId} : {}));
    if (!chat) return;
    const known = this.chats.get(chat.ChatID) || {};
    const {Messages: messages, ...fields} = chat;
    this.chats.set(chat.ChatID, {...known, ...fields});
    if (!("CustomerName" in known)) this.fetchRow(chat);
    this.chooseTab("mine");
    this.renderLists();
    await this.openChat(chat.ChatID);
    const box = this.conversation.querySelector("textarea");
    if (box) box.focus();
  }

  // Shows the chat and puts it in the address (so a reload or Back returns to it).
  async openChat(chatId) {
    const detail = await attempt(() => get("GetChat", {ChatID: chatId}));
    if (!detail) { this.showEmpty(); return; }
    this.open = detail;
    this.store.inboxChat = chatId;
    this.unread.delete(chatId);
    const row = this.chats.get(chatId);
    if (row) row.CustomerName = detail.Customer.Name;
    this.root.dataset.pane = "chat";
    if (location.hash.split("?")[0] !== `#/inbox/${chatId}`) history.pushState(null, "", `#/inbox/${chatId}`);
    this.renderConversation();
    this.renderCustomer();
    this.renderLists();
  }

  customerLabel() {
    return displayName({...this.open, CustomerName: this.open.Customer.Name,
      CustomerPhoneNumber: this.open.Customer.PhoneNumber});
  }

  mine() {
    return this.open && this.open.Status === "Assigned" &&
      (this.open.AgentID === this.store.me.AgentID || this.store.isManager);
  }
}

for (const part of [Conversation, TemplatePicker]) {
  for (const name of Object.getOwnPropertyNames(part.prototype)) {
    if (name !== "constructor") AgentView.prototype[name] = part.prototype[name];
  }
}

const unreadKey = (agentId) => `agentchat.console.unread.${agentId}`;

function loadUnread(agentId) {
  try {
    return new Map(JSON.parse(localStorage.getItem(unreadKey(agentId)) || "[]"));
  } catch (_) {
    return new Map();
  }
}

function saveUnread(agentId, unread) {
  localStorage.setItem(unreadKey(agentId), JSON.stringify([...unread]));
}

const SHORTCUTS = [["g", "Grab the next waiting chat"], ["j", "Next chat in the list"], ["k", "Previous chat in the list"],
  ["c", "Close the open chat (asks first)"], ["/", "Search the chats"], ["?", "This list"],
  ["Enter", "In the reply box: send (Shift+Enter: a new line)"], ["Escape", "Close a list or a dialog"]];

function shortcutHelp() {
  dialog("Keyboard shortcuts", el("p", {class: "muted"}, "Outside text fields:"),
    el("dl", {class: "shortcuts"}, SHORTCUTS.flatMap(([key, what]) => [el("dt", {}, el("kbd", {}, key)), el("dd", {}, what)])));
}
