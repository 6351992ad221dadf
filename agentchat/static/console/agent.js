// The agent's inbox: the live queue, my chats, the conversation, the customer.
import {get, post, all, download, fileToBase64} from "./api.js";
import {el, clear, toast, attempt, duration, since, time, field, dialog, notify, STATUSES} from "./ui.js";
import {messageItem, customerName} from "./transcript.js";

const MAX_FILE_BYTES = 16 * 1024 * 1024;
// How long "Customer is typing…" stays after the last CustomerTyping (the visitor's page sends one every 2 s).
const TYPING_SHOWN_MS = 4000;
// How often the reply box tells the customer "Agent is typing…" while the agent types (the server relays at most
// one every 2 s per chat).
const TYPING_SENT_EVERY_MS = 2000;

export class AgentView {
  constructor(main, store) {
    this.store = store;
    this.chats = new Map();      // ChatID -> Chat (waiting, or assigned to me)
    this.names = new Map();      // ChatID -> customer name (from GetChat)
    this.unread = new Map();     // ChatID -> count
    this.open = null;            // the chat on screen: ChatDetail
    this.tags = [];
    this.canned = [];
    this.build(main);
    this.off = store.on((event) => this.onEvent(event));
    this.ticker = setInterval(() => this.tick(), 1000);
    this.load();
  }

  destroy() {
    this.off();
    clearInterval(this.ticker);
    clearTimeout(this.typingTimer);
  }

  // ---- layout ----------------------------------------------------------------------------------------
  build(main) {
    this.queueList = el("ul", {class: "chat-list", id: "queue"});
    this.mineList = el("ul", {class: "chat-list", id: "mine"});
    this.queueCount = el("span", {class: "count"});
    this.mineCount = el("span", {class: "count"});
    this.lists = el("section", {class: "lists", "aria-label": "Chats"},
      el("div", {class: "list-head"}, el("h2", {id: "queue-title"}, "Waiting ", this.queueCount),
        el("button", {type: "button", onclick: () => this.grab(null)}, "Grab next")),
      this.queueList,
      el("h2", {}, "My chats ", this.mineCount),
      this.mineList);
    this.conversation = el("section", {class: "conversation", "aria-label": "Conversation"});
    this.customer = el("aside", {class: "customer", "aria-label": "Customer"});
    this.root = el("div", {class: "inbox", dataset: {pane: "lists"}}, this.lists, this.conversation, this.customer);
    main.append(el("h1", {class: "visually-hidden"}, "Inbox"), this.root);
    this.showEmpty();
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
    const [waiting, mine, tags, canned] = await Promise.all([
      attempt(() => all("GetChats", {Status: "Unassigned"})),
      attempt(() => all("GetChats", {Status: "Assigned", AgentID: me})),
      attempt(() => get("GetTags")),
      attempt(() => get("GetCannedResponses")),
    ]);
    this.chats.clear();
    for (const chat of [...(waiting || []), ...(mine || [])]) this.chats.set(chat.ChatID, chat);
    this.tags = (tags ? tags.Items : []).flatMap((g) => g.Enabled ? g.Tags.filter((t) => t.Enabled)
      .map((t) => ({...t, Label: `${g.Name}: ${t.Name}`})) : []);
    this.allTags = new Map((tags ? tags.Items : []).flatMap((g) => g.Tags.map((t) => [t.TagID, `${g.Name}: ${t.Name}`])));
    this.canned = canned ? canned.Items : [];
    this.renderLists();
    if (this.open) this.openChat(this.open.ChatID);
  }

  // ---- lists -----------------------------------------------------------------------------------------
  renderLists() {
    const me = this.store.me.AgentID;
    const waiting = [...this.chats.values()].filter((c) => c.Status === "Unassigned")
      .sort((a, b) => Date.parse(a.QueuedAt || a.CreatedAt) - Date.parse(b.QueuedAt || b.CreatedAt));
    const mine = [...this.chats.values()].filter((c) => c.Status === "Assigned" && c.AgentID === me)
      .sort((a, b) => Date.parse(b.LastMessageAt || b.AssignedAt) - Date.parse(a.LastMessageAt || a.AssignedAt));
    this.queueCount.textContent = `(${waiting.length})`;
    this.mineCount.textContent = `(${mine.length})`;
    clear(this.queueList, waiting.length ? waiting.map((c) => this.item(c, true))
      : el("li", {class: "empty"}, "No one is waiting."));
    clear(this.mineList, mine.length ? mine.map((c) => this.item(c, false))
      : el("li", {class: "empty"}, "No open chats."));
    const unread = [...this.unread.values()].reduce((a, b) => a + b, 0);
    document.title = (unread ? `(${unread}) ` : "") + "Inbox · AgentChat";
  }

  item(chat, waiting) {
    const department = this.store.department(chat.DepartmentID);
    const name = this.names.get(chat.ChatID);
    if (name === undefined) this.fetchName(chat.ChatID);
    const unread = this.unread.get(chat.ChatID) || 0;
    const label = name || `Chat ${chat.ChatID}`;
    const selected = this.open && this.open.ChatID === chat.ChatID;
    return el("li", {class: "chat-item" + (selected ? " selected" : ""), dataset: {chatId: chat.ChatID}},
      el("button", {type: "button", class: "open", "aria-current": selected ? "true" : undefined,
        onclick: () => this.openChat(chat.ChatID)},
        el("span", {class: "name"}, label),
        el("span", {class: "meta"}, (department ? department.Name : "No department") + " · " + chat.Channel),
        waiting ? el("span", {class: "wait", dataset: {since: chat.QueuedAt || chat.CreatedAt}},
          "waiting " + duration(since(chat.QueuedAt || chat.CreatedAt)))
          : el("span", {class: "meta"}, time(chat.LastMessageAt))),
      unread ? el("span", {class: "badge", "aria-label": `${unread} unread`}, String(unread)) : null,
      waiting ? el("button", {type: "button", class: "primary grab", "aria-label": `Grab chat with ${label}`,
        onclick: () => this.grab(chat.ChatID)}, "Grab") : null);
  }

  async fetchName(chatId) {
    this.names.set(chatId, null);
    const detail = await get("GetChat", {ChatID: chatId}).catch(() => null);
    if (!detail) return;
    this.names.set(chatId, customerName(detail.Customer));
    const item = this.root.querySelector(`li[data-chat-id="${chatId}"]`);
    if (!item) return;
    item.querySelector(".name").textContent = this.names.get(chatId);
    const grab = item.querySelector(".grab");
    if (grab) grab.setAttribute("aria-label", `Grab chat with ${this.names.get(chatId)}`);
  }

  tick() {
    for (const node of this.root.querySelectorAll(".wait[data-since]")) {
      node.textContent = "waiting " + duration(since(node.dataset.since));
    }
  }

  // ---- events ----------------------------------------------------------------------------------------
  onEvent(event) {
    const data = event.Data || {};
    const me = this.store.me.AgentID;
    if (event.Type === "Resync") { this.load(); return; }
    if (event.Type.startsWith("Chat") && event.Type !== "ChatTagged" && data.ChatID) {
      const known = this.chats.get(data.ChatID);
      const chat = {...(known || {TagIDs: []}), ...data};
      delete chat.FromStatus;
      delete chat.ActorAgentID;
      const visible = chat.Status === "Unassigned" || (chat.Status === "Assigned" && chat.AgentID === me);
      if (visible) this.chats.set(chat.ChatID, chat); else this.chats.delete(chat.ChatID);
      if (chat.Status === "Unassigned" && (!known || known.Status !== "Unassigned")) {
        const department = this.store.department(chat.DepartmentID);
        notify("A customer is waiting", department ? department.Name : "New chat");
      }
      if (!visible) this.unread.delete(chat.ChatID);
      this.renderLists();
      if (this.open && this.open.ChatID === chat.ChatID) {
        Object.assign(this.open, chat);
        this.renderHeader();
        if (data.ActorAgentID === me) { /* my own action: its result is shown already */ }
        else if (event.Type === "ChatClosed") toast("This chat is closed.");
        else if (chat.Status === "Assigned" && chat.AgentID !== me) {
          toast("Another agent has this chat now.");
        }
      }
    } else if (event.Type === "ChatTagged") {
      const chat = this.chats.get(data.ChatID);
      if (chat) chat.TagIDs = data.TagIDs;
      if (this.open && this.open.ChatID === data.ChatID) { this.open.TagIDs = data.TagIDs; this.renderHeader(); }
    } else if (event.Type === "MessageReceived" || event.Type === "MessageSent") {
      const chat = this.chats.get(data.ChatID);
      if (chat) chat.LastMessageAt = data.CreatedAt;
      if (this.open && this.open.ChatID === data.ChatID) {
        this.addMessage(data);
        if (event.Type === "MessageReceived") this.showTyping(false);
      } else if (chat && event.Type === "MessageReceived" && chat.Status === "Assigned") {
        this.unread.set(data.ChatID, (this.unread.get(data.ChatID) || 0) + 1);
      }
      this.renderLists();
    } else if (event.Type === "MessageStatusChanged") {
      const node = this.messages && this.messages.querySelector(`li[data-id="${data.MessageID}"] .status`);
      if (node) node.textContent = data.DeliveryStatus + (data.FailureReason ? `: ${data.FailureReason}` : "");
    } else if (event.Type === "CustomerTyping") {
      // A socket catching up after a reconnect replays old ones: only a fresh event means typing now.
      const fresh = !event.At || Date.now() - Date.parse(event.At) < TYPING_SHOWN_MS * 2;
      if (fresh && this.open && this.open.ChatID === data.ChatID) this.showTyping(true);
    } else if (event.Type === "CustomerUpdated") {
      if (this.open && this.open.CustomerID === data.CustomerID) {
        this.open.Customer = {...this.open.Customer, ...data};
        this.names.set(this.open.ChatID, data.Name || this.names.get(this.open.ChatID));
        this.renderCustomer();
      }
    }
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
    this.chats.set(chat.ChatID, chat);
    this.renderLists();
    await this.openChat(chat.ChatID);
    const box = this.conversation.querySelector("textarea");
    if (box) box.focus();
  }

  async openChat(chatId) {
    const detail = await attempt(() => get("GetChat", {ChatID: chatId}));
    if (!detail) return;
    this.open = detail;
    this.unread.delete(chatId);
    this.names.set(chatId, customerName(detail.Customer));
    this.root.dataset.pane = "chat";
    this.renderConversation();
    this.renderCustomer();
    this.renderLists();
  }

  mine() {
    return this.open && this.open.Status === "Assigned" &&
      (this.open.AgentID === this.store.me.AgentID || this.store.isManager);
  }

  // ---- the conversation ------------------------------------------------------------------------------
  renderConversation() {
    this.header = el("div", {class: "chat-head"});
    this.messages = el("ol", {class: "messages", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": "Messages"});
    this.shown = new Set();
    clearTimeout(this.typingTimer);
    this.typing = el("p", {class: "typing", "aria-live": "polite"});
    this.compose = el("div", {class: "compose-wrap"});
    clear(this.conversation, this.header, this.messages, this.typing, this.compose);
    this.renderHeader();
    for (const message of this.open.Messages) this.addMessage(message);
  }

  renderHeader() {
    const chat = this.open;
    const name = this.names.get(chat.ChatID) || `Chat ${chat.ChatID}`;
    const department = this.store.department(chat.DepartmentID);
    const agent = chat.AgentID ? this.store.agents.get(chat.AgentID) : null;
    const state = chat.Status === "Assigned" ? `with ${agent ? agent.Name : "an agent"}` : chat.Status.toLowerCase();
    const chips = el("ul", {class: "tags", "aria-label": "Tags"}, (chat.TagIDs || []).map((id) =>
      el("li", {class: "tag"}, this.allTags.get(id) || `Tag ${id}`,
        this.mine() ? el("button", {type: "button", class: "icon", "aria-label": `Remove tag ${this.allTags.get(id) || id}`,
          onclick: () => this.tagAction("RemoveTag", id)}, "×") : null)));
    const addTag = this.mine() && this.tags.length ? el("select", {"aria-label": "Add a tag", onchange: (e) => {
      if (e.target.value) this.tagAction("AddTag", Number(e.target.value));
    }}, el("option", {value: ""}, "Add a tag…"),
    this.tags.filter((t) => !(chat.TagIDs || []).includes(t.TagID)).map((t) => el("option", {value: t.TagID}, t.Label)))
      : null;
    clear(this.header,
      el("button", {type: "button", class: "back", onclick: () => this.showEmpty()}, "‹ Chats"),
      el("div", {class: "title"}, el("h2", {id: "chat-title"}, name),
        el("span", {class: "meta"}, `${department ? department.Name : "No department"} · ${chat.Channel} · ${state}`)),
      el("div", {class: "chat-actions"},
        chat.Status === "Unassigned" ? el("button", {type: "button", class: "primary", onclick: () => this.grab(chat.ChatID)}, "Grab") : null,
        this.mine() ? el("button", {type: "button", onclick: () => this.transferDialog()}, "Transfer") : null,
        el("button", {type: "button", onclick: () => attempt(() => download(`/api/ExportChat?ChatID=${chat.ChatID}`,
          `chat-${chat.ChatID}.csv`))}, "Export"),
        this.mine() ? el("button", {type: "button", class: "danger", onclick: () => this.close()}, "Close chat") : null),
      el("div", {class: "tag-row"}, chips, addTag));
    this.renderCompose();
  }

  addMessage(message) {
    if (this.shown.has(message.MessageID)) return;
    this.shown.add(message.MessageID);
    const item = messageItem(message, {customerName: this.names.get(message.ChatID), store: this.store});
    const next = [...this.messages.children].find((li) => Number(li.dataset.id) > message.MessageID);
    this.messages.insertBefore(item, next || null);
    if (!next) this.messages.scrollTop = this.messages.scrollHeight;
  }

  renderCompose() {
    if (!this.mine()) {
      const note = this.open.Status === "Closed" ? "This chat is closed."
        : this.open.Status === "Unassigned" ? "Grab this chat to reply." : "Only the agent serving this chat can reply.";
      clear(this.compose, el("p", {class: "muted compose-note"}, note));
      return;
    }
    if (this.compose.querySelector("form")) return;
    const text = el("textarea", {id: "reply", rows: 2, maxlength: 4096, "aria-describedby": "reply-hint"});
    const suggestions = el("ul", {class: "suggestions", role: "listbox", "aria-label": "Canned responses", hidden: true});
    const file = el("input", {type: "file", id: "attach", class: "visually-hidden"});
    const fileName = el("span", {class: "file-name", "aria-live": "polite"});
    file.addEventListener("change", () => { fileName.textContent = file.files[0] ? file.files[0].name : ""; });
    const formNode = el("form", {class: "compose", "aria-label": "Reply"},
      el("label", {for: "reply"}, "Message"),
      suggestions, text,
      el("small", {id: "reply-hint"}, "Enter sends, Shift+Enter adds a line; type / and a short code for a canned response."),
      el("div", {class: "compose-actions"},
        el("label", {for: "attach", class: "button"}, "Attach file"), file, fileName,
        el("button", {type: "submit", class: "primary"}, "Send")));
    text.addEventListener("input", () => {
      this.suggest(text, suggestions);
      if (text.value.trim()) this.tellTyping();
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" && !suggestions.hidden) {
        event.preventDefault();
        suggestions.querySelector("button").focus();
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        formNode.requestSubmit();
      }
    });
    formNode.addEventListener("submit", async (event) => {
      event.preventDefault();
      await this.send(text, file, fileName);
    });
    clear(this.compose, formNode);
  }

  suggest(text, list) {
    const match = /^\/([\w-]*)$/.exec(text.value);
    const found = match ? this.canned.filter((c) => c.ShortCode && c.ShortCode.startsWith(match[1].toLowerCase())) : [];
    list.hidden = !found.length;
    clear(list, found.slice(0, 8).map((c) => el("li", {role: "option"},
      el("button", {type: "button", onclick: () => this.useCanned(c, text, list),
        onkeydown: (event) => {
          const items = [...list.querySelectorAll("button")];
          const at = items.indexOf(event.target);
          if (event.key === "ArrowDown" && items[at + 1]) { event.preventDefault(); items[at + 1].focus(); }
          if (event.key === "ArrowUp") { event.preventDefault(); (items[at - 1] || text).focus(); }
          if (event.key === "Escape") { list.hidden = true; text.focus(); }
        }}, el("strong", {}, "/" + c.ShortCode), " ", c.Name))));
  }

  async useCanned(canned, text, list) {
    const rendered = await attempt(() => get("RenderCannedResponse",
      {CannedResponseID: canned.CannedResponseID, ChatID: this.open.ChatID}));
    text.value = rendered ? rendered.Text : canned.Text;
    list.hidden = true;
    text.focus();
  }

  async send(text, file, fileName) {
    const body = {ChatID: this.open.ChatID};
    if (text.value.trim()) body.Message = text.value;
    const chosen = file.files[0];
    if (chosen) {
      if (chosen.size > MAX_FILE_BYTES) { toast("That file is larger than 16 MB.", "error"); return; }
      body.FileName = chosen.name;
      body.FileType = chosen.type || "application/octet-stream";
      body.FileContent = await fileToBase64(chosen);
    }
    if (!body.Message && !body.FileContent) { toast("Type a message or attach a file.", "error"); text.focus(); return; }
    const message = await attempt(() => post("SendMessage", body));
    if (!message) return;
    this.addMessage(message);
    text.value = "";
    file.value = "";
    fileName.textContent = "";
    text.focus();
  }

  async tagAction(call, tagId) {
    const chat = await attempt(() => post(call, {ChatID: this.open.ChatID, TagID: tagId}));
    if (chat) { this.open.TagIDs = chat.TagIDs; this.renderHeader(); }
  }

  async close() {
    const chat = await attempt(() => post("CloseChat", {ChatID: this.open.ChatID}), {success: "Chat closed."});
    if (!chat) return;
    this.chats.delete(chat.ChatID);
    this.renderLists();
    this.showEmpty();
    const next = this.root.querySelector(".chat-list button.open");
    if (next) next.focus();
  }

  transferDialog() {
    const chat = this.open;
    const me = this.store.me.AgentID;
    const departments = this.store.departments.filter((d) => d.Enabled && d.DepartmentID !== chat.DepartmentID);
    const online = [...this.store.agents.values()].filter((a) => a.Enabled && a.StatusID === 4 && a.AgentID !== me &&
      a.DepartmentIDs.includes(chat.DepartmentID));
    const toDepartment = field({name: "DepartmentID", label: "Department", type: "select",
      options: departments.map((d) => [d.DepartmentID, d.Name])});
    const toAgent = field({name: "AgentID", label: "Agent (online, in this department)", type: "select",
      options: online.map((a) => [a.AgentID, `${a.Name} (${STATUSES[a.StatusID]})`])});
    const done = async (call, body) => {
      const result = await attempt(() => post(call, {ChatID: chat.ChatID, ...body}), {success: "Chat transferred."});
      if (!result) return;
      box.close();
      const visible = result.Status === "Assigned" && result.AgentID === me;
      if (!visible) { this.chats.delete(chat.ChatID); this.renderLists(); this.showEmpty(); }
    };
    const box = dialog("Transfer chat",
      el("form", {class: "stack", onsubmit: (e) => { e.preventDefault();
        done("TransferChatToDepartment", {DepartmentID: Number(e.target.elements.DepartmentID.value)}); }},
      departments.length ? [toDepartment, el("button", {type: "submit", class: "primary"}, "Transfer to department")]
        : el("p", {class: "muted"}, "There is no other department.")),
      el("form", {class: "stack", onsubmit: (e) => { e.preventDefault();
        done("TransferChatToAgent", {AgentID: Number(e.target.elements.AgentID.value)}); }},
      online.length ? [toAgent, el("button", {type: "submit", class: "primary"}, "Transfer to agent")]
        : el("p", {class: "muted"}, "No other agent of this department is online.")));
  }

  // ---- the customer ----------------------------------------------------------------------------------
  renderCustomer() {
    const customer = this.open.Customer;
    const details = el("form", {class: "stack", "aria-labelledby": "customer-title"},
      field({name: "Name", label: "Name", value: customer.Name, maxlength: 100}),
      field({name: "EmailAddress", label: "E-mail address", type: "email", value: customer.EmailAddress, maxlength: 254}),
      el("p", {class: "muted"}, customer.PhoneNumber ? `Phone ${customer.PhoneNumber}` : "No phone number"),
      el("button", {type: "submit"}, "Save customer"));
    details.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {CustomerID: customer.CustomerID};
      const name = details.elements.Name.value.trim(), email = details.elements.EmailAddress.value.trim();
      if (name) body.Name = name;
      if (email) body.EmailAddress = email;
      const updated = await attempt(() => post("UpdateCustomer", body), {success: "Customer saved."});
      if (updated) { this.open.Customer = updated; this.names.set(this.open.ChatID, updated.Name); this.renderHeader(); }
    });
    const comments = el("ol", {class: "comments"}, customer.Comments.map((c) => {
      const agent = c.AgentID ? this.store.agents.get(c.AgentID) : null;
      return el("li", {}, el("span", {class: "text"}, c.Text),
        el("span", {class: "meta"}, `${agent ? agent.Name : "Agent"} · ${time(c.CreatedAt)}`));
    }));
    const addComment = el("form", {class: "stack"},
      field({name: "Comment", label: "New comment", type: "textarea", rows: 2, maxlength: 2000}),
      el("button", {type: "submit"}, "Add comment"));
    addComment.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = addComment.elements.Comment.value.trim();
      if (!text) { toast("Write the comment first.", "error"); return; }
      const updated = await attempt(() => post("AddComment", {CustomerID: customer.CustomerID, Comment: text}));
      if (updated) { this.open.Customer = updated; this.renderCustomer(); }
    });
    clear(this.customer, el("h2", {id: "customer-title"}, "Customer"), details,
      el("h3", {}, "Comments"), customer.Comments.length ? comments : el("p", {class: "muted"}, "No comments yet."),
      this.open.Status !== "Closed" ? addComment : null);
  }
}

