// History (every agent; managers see every department): the closed chats the caller may see, newest first,
// optionally started within a date range, each readable with its tags and exportable as CSV.
import {get} from "./api.js";
import {el, clear, attempt, form, table, pager} from "./ui.js";
import {chatSummary, loadTagNames, showTranscript} from "./transcript.js";
import {displayName} from "./inboxlist.js";

const PAGE_SIZE = 25;

export class HistoryView {
  constructor(main, store) {
    this.store = store;
    this.filter = {};
    this.tagNames = new Map();
    this.page = 1;
    this.shown = new Set();   // ChatIDs on the page
    this.build(main);
    loadTagNames().then((names) => {
      this.tagNames = names;
      const select = this.filterForm.elements.TagID;
      select.append(...[...names].sort((a, b) => a[1].localeCompare(b[1]))
        .map(([id, name]) => el("option", {value: String(id)}, name)));
    });
    attempt(() => this.load(1));
    // Live: a chat closed anywhere the caller can see lands on the first page; a listed chat's tags may change.
    this.off = store.on((event) => {
      const chatId = event.Data && event.Data.ChatID;
      if ((event.Type === "ChatClosed" && this.page === 1) || (event.Type === "ChatTagged" && this.shown.has(chatId))) {
        clearTimeout(this.pending);
        this.pending = setTimeout(() => this.refresh().catch(() => {}), 300);
      }
    });
  }

  // The page again, for a change made elsewhere; a keyboard user's focus stays on the chat it was on.
  async refresh() {
    const focused = this.list.contains(document.activeElement) ? document.activeElement.dataset.chatId : null;
    await this.load(this.page);
    const again = focused && this.list.querySelector(`button[data-chat-id="${focused}"]`);
    if (again) again.focus();
  }

  destroy() {
    this.off();
    clearTimeout(this.pending);
  }

  build(main) {
    const agents = [...this.store.agents.values()].sort((a, b) => a.Name.localeCompare(b.Name));
    const filter = form([
      {name: "From", label: "Started from", type: "date"},
      {name: "To", label: "to", type: "date"},
      {name: "Customer", label: "Customer", type: "search", maxlength: 100, placeholder: "Name, number or e-mail"},
      {name: "AgentID", label: "Agent", type: "select", numeric: true,
        options: [["", "Any agent"], ...agents.map((a) => [a.AgentID, a.Name])]},
      {name: "TagID", label: "Tag", type: "select", numeric: true, options: [["", "Any tag"]]},
    ], {submit: "Show", onSubmit: async (v) => {
      this.filter = {From: v.From, To: v.To, AgentID: v.AgentID, TagID: v.TagID,
        CustomerID: await this.customerId(v.Customer)};
      await this.load(1);
    }});
    filter.classList.add("filters");
    this.filterForm = filter;
    this.list = el("div", {id: "history"}, el("p", {class: "loading"}, "Loading…"));
    this.transcript = el("section", {class: "panel transcript", "aria-label": "Conversation"},
      el("p", {class: "empty"}, "Choose a chat to read it."));
    main.append(el("div", {class: "page wide"},
      el("div", {class: "page-head"}, el("h1", {}, "History")),
      el("div", {class: "split"},
        el("section", {class: "panel", "aria-label": "Closed chats"}, filter, this.list),
        this.transcript)));
  }

  // The customer a search names (SearchCustomer's first match); the form shows a miss beside the field.
  async customerId(search) {
    if (!search) return null;
    const found = await get("SearchCustomer", {Search: search, PageSize: 1});
    if (!found.Items.length) {
      throw Object.assign(new Error(`No customer matches “${search}”.`), {field: "Customer"});
    }
    return found.Items[0].CustomerID;
  }

  // Throws (the filter form shows the error, e.g. From after To); the pager's calls go through attempt.
  async load(page) {
    const data = await get("GetChats", {Status: "Closed", ...this.filter, Page: page, PageSize: PAGE_SIZE});
    this.page = page;
    this.shown = new Set(data.Items.map((c) => c.ChatID));
    clear(this.list, table("Closed chats", [
      {label: "Customer", value: (c) => displayName(c)},
      {label: "Chat", value: (c) => chatSummary(c, this.store)},
      {label: "Read", value: (c) => el("button", {type: "button", dataset: {chatId: c.ChatID},
        "aria-label": `View chat with ${displayName(c)}`, onclick: () => this.read(c.ChatID)}, "View")},
    ], data.Items, this.filter.AgentID || this.filter.TagID || this.filter.CustomerID ? "No closed chats match."
      : this.filter.From || this.filter.To ? "No closed chats started in those days." : "No closed chats yet."),
    data.Items.length || page > 1 ? pager("History pages", data, (n) => attempt(() => this.load(n))) : null);
  }

  async read(chatId) {
    await showTranscript(this.transcript, chatId, {store: this.store, tagNames: this.tagNames});
  }
}
