// Mentions (every agent): the notes in which colleagues named the caller with @, newest first; opening one goes
// to its chat and marks it seen. New ones arrive live (MentionReceived).
import {get, post} from "./api.js";
import {el, clear, attempt, table, pager, time} from "./ui.js";

const PAGE_SIZE = 25;

export class MentionsView {
  constructor(main, store) {
    this.store = store;
    this.page = 1;
    this.list = el("div", {id: "mentions"}, el("p", {class: "loading"}, "Loading…"));
    main.append(el("div", {class: "page wide"},
      el("div", {class: "page-head"}, el("h1", {}, "Mentions")),
      el("section", {class: "panel", "aria-label": "Your mentions"}, this.list)));
    attempt(() => this.load(1));
    this.off = store.on((event) => {
      if (event.Type === "MentionReceived" && this.page === 1) attempt(() => this.load(1));
    });
  }

  destroy() { this.off(); }

  async load(page) {
    const data = await get("GetMentions", {Page: page, PageSize: PAGE_SIZE});
    this.page = page;
    clear(this.list, table("Your mentions", [
      {label: "When", value: (m) => time(m.CreatedAt)},
      {label: "From", value: (m) => m.ByAgentName || `Agent ${m.ByAgentID}`},
      {label: "Note", value: (m) => el("span", {class: "mention" + (m.SeenAt ? "" : " unseen")}, m.Text || "")},
      {label: "Chat", value: (m) => el("button", {type: "button", "aria-label": `Open the chat of this mention`,
        onclick: () => this.open(m)}, m.SeenAt ? "Open chat" : "Open chat (new)")},
    ], data.Items, "Nobody has mentioned you yet."),
    data.Items.length || page > 1 ? pager("Mention pages", data, (n) => attempt(() => this.load(n))) : null);
  }

  async open(mention) {
    if (!mention.SeenAt) await attempt(() => post("MarkMentionsSeen", {MentionIDs: [mention.MentionID]}));
    location.hash = `#/inbox/${mention.ChatID}`;
  }
}
