// Search (every agent; managers see every department): messages and notes by their words, the words found marked,
// grouped by chat; customers by name or number. Filters: dates, department, agent, tag, status.
import {get} from "./api.js";
import {el, clear, attempt, form, pager, time} from "./ui.js";
import {loadTagNames} from "./transcript.js";

const PAGE_SIZE = 25;

// The parts of a snippet as text nodes and <mark>s: nothing from a message is ever parsed as markup.
function snippet(parts) {
  return el("span", {class: "snippet"}, parts.map((p) => (p.Match ? el("mark", {}, p.Text) : p.Text)));
}

export class SearchView {
  constructor(main, store) {
    this.store = store;
    this.query = null;
    this.build(main);
    loadTagNames().then((names) => { this.tagNames = names; this.fillTags(); });
  }

  build(main) {
    const departments = [["", "Any"], ...this.store.departments.map((d) => [d.DepartmentID, d.Name])];
    const agents = [["", "Anyone"], ...[...this.store.agents.values()].map((a) => [a.AgentID, a.Name])];
    const statuses = [["", "Any"], ["Open", "Open"], ["Unassigned", "Waiting"], ["Closed", "Closed"], ["Bot", "With the bot"]];
    this.form = form([
      {name: "Search", label: "Words", required: true, maxlength: 200},
      {name: "From", label: "From", type: "date"},
      {name: "To", label: "to", type: "date"},
      {name: "DepartmentID", label: "Department", type: "select", options: departments, numeric: true},
      {name: "AgentID", label: "Agent", type: "select", options: agents, numeric: true},
      {name: "TagID", label: "Tag", type: "select", options: [["", "Any"]], numeric: true},
      {name: "Status", label: "Status", type: "select", options: statuses},
    ], {submit: "Search", onSubmit: async (v) => {
      this.query = Object.fromEntries(Object.entries(v).filter(([, value]) => value !== null && value !== ""));
      await this.load(1);
    }});
    this.form.classList.add("filters");
    this.results = el("div", {id: "search-results", "aria-live": "polite"});
    main.append(el("div", {class: "page wide"},
      el("div", {class: "page-head"}, el("h1", {}, "Search")),
      el("section", {class: "panel", "aria-label": "Search everything"}, this.form, this.results)));
    this.form.elements.Search.focus();
  }

  fillTags() {
    const select = this.form.elements.TagID;
    for (const [id, name] of this.tagNames || []) select.append(el("option", {value: String(id)}, name));
  }

  async load(page) {
    const data = await get("Search", {...this.query, Page: page, PageSize: PAGE_SIZE});
    const byChat = new Map();
    for (const hit of data.Items) {
      if (!byChat.has(hit.ChatID)) byChat.set(hit.ChatID, {chat: hit.Chat, hits: []});
      byChat.get(hit.ChatID).hits.push(hit);
    }
    const chats = [...byChat.values()].map(({chat, hits}) => {
      const department = this.store.department(chat.DepartmentID);
      return el("li", {class: "search-chat"},
        el("a", {href: `#/inbox/${chat.ChatID}`}, chat.CustomerName || `Customer ${chat.CustomerID}`),
        el("span", {class: "meta"}, ` · ${department ? department.Name : "No department"} · ${chat.Channel} · ${chat.Status}`),
        el("ul", {class: "hits"}, hits.map((hit) => el("li", {class: `hit ${hit.SenderType}`},
          el("span", {class: "who"}, hit.SenderType === "Note" ? "Internal note" : hit.SenderType),
          " ", snippet(hit.Snippet), " ", el("span", {class: "when"}, time(hit.CreatedAt))))));
    });
    const customers = data.Customers.length ? el("section", {"aria-label": "Customers found"},
      el("h2", {}, "Customers"),
      el("ul", {}, data.Customers.map((c) => el("li", {}, c.Name || c.PhoneNumber || c.EmailAddress || `Customer ${c.CustomerID}`,
        c.PhoneNumber ? ` · ${c.PhoneNumber}` : "")))) : null;
    clear(this.results, customers,
      el("h2", {}, "Messages"),
      chats.length ? el("ul", {class: "search-chats", "aria-label": "Chats found"}, chats)
        : el("p", {class: "empty"}, "No message has those words."),
      data.Items.length || page > 1 ? pager("Search result pages", data, (n) => attempt(() => this.load(n))) : null);
  }
}
