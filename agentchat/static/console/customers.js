// Customers (every agent): search by name, phone or e-mail; a customer's details, comments and chats, each chat
// readable; a Manager may erase the customer's personal data (POPIA).
import {get, post, all} from "./api.js";
import {el, clear, toast, attempt, time, form, dialog, table, pager} from "./ui.js";
import {customerName, chatSummary, loadTagNames, showTranscript} from "./transcript.js";

const PAGE_SIZE = 25;

export class CustomersView {
  constructor(main, store) {
    this.store = store;
    this.search = "";
    this.page = 1;
    this.selected = null;   // {customer, chats, erased}
    this.listed = new Set(); // CustomerIDs in the search results
    this.tagNames = new Map();
    this.build(main);
    loadTagNames().then((names) => { this.tagNames = names; });
    this.off = store.on((event) => this.onEvent(event));
  }

  destroy() {
    this.off();
    clearTimeout(this.pendingFind);
    clearTimeout(this.pendingChats);
  }

  // Live: the chosen customer's details and comments as others change them (CustomerUpdated), their chats as
  // they start and end, and the search results' rows.
  onEvent(event) {
    const data = event.Data || {};
    const selected = this.selected && !this.selected.erased ? this.selected.customer : null;
    if (event.Type === "CustomerUpdated") {
      if (selected && selected.CustomerID === data.CustomerID) {
        const editing = this.editing(selected);
        this.selected.customer = data;
        if (editing) this.refreshComments(); else this.rerender();
      }
      if (this.search && this.listed.has(data.CustomerID)) {
        clearTimeout(this.pendingFind);
        this.pendingFind = setTimeout(() => this.refreshResults().catch(() => {}), 300);
      }
    } else if (event.Type.startsWith("Chat") && selected && data.CustomerID === selected.CustomerID) {
      clearTimeout(this.pendingChats);
      this.pendingChats = setTimeout(() => this.reloadChats(selected.CustomerID), 300);
    }
  }

  // The results again, for a change made elsewhere; a keyboard user's focus stays on the customer it was on.
  async refreshResults() {
    const focused = this.results.contains(document.activeElement) ? document.activeElement.dataset.customerId : null;
    await this.find(this.page);
    const again = focused && this.results.querySelector(`button[data-customer-id="${focused}"]`);
    if (again) again.focus();
  }

  async reloadChats(customerId) {
    const chats = await all("GetChats", {CustomerID: customerId}).catch(() => null);
    if (!chats || !this.selected || this.selected.customer.CustomerID !== customerId) return;
    const editing = this.editing(this.selected.customer);
    this.selected.chats = chats;
    if (!editing) this.rerender();
    else this.detail.querySelector("#customer-chats").replaceWith(this.chatsTable(chats));
  }

  // render() for a change from elsewhere: focus that was in the panel goes to its heading, not to the page.
  rerender() {
    const hadFocus = this.detail.contains(document.activeElement);
    this.render();
    if (hadFocus) this.detail.querySelector("h2").focus();
  }

  // Whether the person at the console is changing the customer's form (a re-render would lose it).
  editing(customer) {
    const details = this.detail.querySelector("form");
    const comment = this.detail.querySelector("textarea");
    const focused = document.activeElement;
    if (this.detail.contains(focused) && focused.matches("input, textarea, select")) return true;
    if (comment && comment.value.trim()) return true;
    if (!details) return false;
    return (details.elements.Name && details.elements.Name.value !== (customer.Name || "")) ||
      (details.elements.EmailAddress && details.elements.EmailAddress.value !== (customer.EmailAddress || ""));
  }

  refreshComments() {
    const list = this.detail.querySelector("#customer-comments");
    if (list) list.replaceWith(this.comments(this.selected.customer));
  }

  build(main) {
    const searchForm = form([{name: "Search", label: "Search customers", type: "search", maxlength: 100,
      hint: "Part of a name, a phone number or an e-mail address."}], {
      submit: "Search",
      onSubmit: async (v) => {
        if (!v.Search) { toast("Type part of a name, a phone number or an e-mail address.", "error"); return; }
        this.search = v.Search;
        await this.find(1);
      },
    });
    this.results = el("div", {id: "customer-results"},
      el("p", {class: "muted"}, "Customers you search for show here."));
    this.detail = el("section", {class: "panel", id: "customer", "aria-label": "Customer"},
      el("p", {class: "empty"}, "Choose a customer to see their details and chats."));
    this.transcript = el("section", {class: "panel transcript", "aria-label": "Conversation", hidden: true});
    main.append(el("div", {class: "page wide"},
      el("div", {class: "page-head"}, el("h1", {}, "Customers")),
      el("div", {class: "split"},
        el("section", {class: "panel", "aria-label": "Search"}, searchForm, this.results),
        el("div", {}, this.detail, this.transcript))));
    searchForm.elements.Search.focus();
  }

  // Throws (the search form shows the error); the pager's calls go through attempt.
  async find(page) {
    const data = await get("SearchCustomer", {Search: this.search, Page: page, PageSize: PAGE_SIZE});
    this.page = page;
    this.listed = new Set(data.Items.map((c) => c.CustomerID));
    const rows = table("Customers", [
      {label: "Name", value: (c) => el("button", {type: "button", class: "link", dataset: {customerId: c.CustomerID},
        onclick: () => this.select(c)}, customerName(c))},
      {label: "Phone number", value: (c) => c.PhoneNumber || ""},
      {label: "E-mail", value: (c) => c.EmailAddress || ""},
    ], data.Items, `No customer matches “${this.search}”.`);
    clear(this.results, rows, data.Items.length || page > 1
      ? pager("Customer pages", data, (n) => attempt(() => this.find(n))) : null);
  }

  async select(customer) {
    const chats = await attempt(() => all("GetChats", {CustomerID: customer.CustomerID}));
    if (!chats) return;
    this.selected = {customer, chats, erased: false};
    this.transcript.hidden = true;
    this.render();
    this.detail.querySelector("h2").focus();
  }

  render() {
    const {customer, chats, erased} = this.selected;
    // Comments belong to a conversation in progress: the service takes them only while the customer has an
    // active chat that the caller can see.
    const active = chats.some((c) => c.Status !== "Closed");
    clear(this.detail,
      el("h2", {id: "customer-title", tabindex: "-1"},
        erased ? `Customer ${customer.CustomerID}` : customerName(customer)),
      erased ? el("p", {class: "notice", role: "status"}, "Personal data erased: the name, phone number, e-mail " +
        "address, comments and message texts are gone. The chats stay, without them, for the statistics.")
        : [this.detailsForm(customer),
          el("p", {class: "muted"}, customer.PhoneNumber ? `Phone ${customer.PhoneNumber}` : "No phone number"),
          el("h3", {}, "Comments"), this.comments(customer),
          active ? this.commentForm(customer)
            : el("p", {class: "muted"}, "Comments can be added while the customer has an open chat you can see."),
          this.store.isManager ? el("p", {}, el("button", {type: "button", class: "danger",
            onclick: () => this.confirmErase()}, "Erase personal data")) : null],
      el("h3", {}, "Chats"),
      this.chatsTable(chats));
  }

  chatsTable(chats) {
    return el("div", {id: "customer-chats"}, table("Chats", [
      {label: "Started", value: (c) => time(c.CreatedAt)},
      {label: "Chat", value: (c) => chatSummary(c, this.store)},
      {label: "Read", value: (c) => el("button", {type: "button", "aria-label": `View chat of ${time(c.CreatedAt)}`,
        onclick: () => this.read(c.ChatID)}, "View")},
    ], chats, "No chats that you can see."));
  }

  detailsForm(customer) {
    return form([
      {name: "Name", label: "Name", value: customer.Name, maxlength: 100},
      {name: "EmailAddress", label: "E-mail address", type: "email", value: customer.EmailAddress, maxlength: 254},
    ], {submit: "Save customer", onSubmit: async (v) => {
      const body = {CustomerID: customer.CustomerID};
      if (v.Name) body.Name = v.Name;
      if (v.EmailAddress) body.EmailAddress = v.EmailAddress;
      await this.updated(await post("UpdateCustomer", body));
      toast("Customer saved.");
    }});
  }

  comments(customer) {
    if (!customer.Comments.length) return el("p", {class: "muted", id: "customer-comments"}, "No comments yet.");
    return el("ol", {class: "comments", id: "customer-comments"}, customer.Comments.map((c) => {
      const agent = c.AgentID ? this.store.agents.get(c.AgentID) : null;
      return el("li", {}, el("span", {class: "text"}, c.Text),
        el("span", {class: "meta"}, `${agent ? agent.Name : "Agent"} · ${time(c.CreatedAt)}`));
    }));
  }

  commentForm(customer) {
    return form([{name: "Comment", label: "New comment", type: "textarea", rows: 2, maxlength: 2000}], {
      submit: "Add comment",
      onSubmit: async (v) => {
        if (!v.Comment) { toast("Write the comment first.", "error"); return; }
        await this.updated(await post("UpdateCustomer", {CustomerID: customer.CustomerID, Comments: v.Comment}));
      },
    });
  }

  async updated(customer) {
    this.selected.customer = customer;
    this.render();
    if (this.search) await attempt(() => this.find(this.page));
  }

  async read(chatId) {
    this.transcript.hidden = false;
    const shown = await showTranscript(this.transcript, chatId, {store: this.store, tagNames: this.tagNames});
    if (!shown) this.transcript.hidden = true;
  }

  confirmErase() {
    const {customer} = this.selected;
    const name = customerName(customer);
    const box = dialog(`Erase ${name}?`,
      el("p", {}, `${name}'s name, phone number, e-mail address and comments are removed, and every message in ` +
        "their chats becomes “[erased]”, files included. An open chat is closed. This cannot be undone."),
      el("div", {class: "actions"},
        el("button", {type: "button", class: "danger", onclick: async (event) => {
          event.target.disabled = true;
          const done = await attempt(() => post("EraseCustomer", {CustomerID: customer.CustomerID}));
          box.close();
          if (done) await this.erased();
        }}, "Erase personal data"),
        el("button", {type: "button", onclick: () => box.close()}, "Cancel")));
  }

  async erased() {
    const {customer} = this.selected;
    toast("Personal data erased.");
    const chats = await attempt(() => all("GetChats", {CustomerID: customer.CustomerID}));
    this.selected = {customer, chats: chats || this.selected.chats, erased: true};
    this.transcript.hidden = true;
    this.render();
    // Search never finds an erased customer: the list says so at once.
    await attempt(() => this.find(this.page));
  }
}
