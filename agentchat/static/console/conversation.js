// The inbox's conversation pane and customer panel (methods of AgentView, kept apart for size): the messages,
// the reply box with canned responses and files, tags, transfer and reassignment, closing, the customer.
import {get, post, download, fileToBase64} from "./api.js";
import {el, clear, toast, attempt, time, field, dialog, showFieldError, showFormError, clearFieldErrors,
  STATUSES} from "./ui.js";
import {messageItem, showTranscript, arrangeMessages} from "./transcript.js";
import {attachCanned} from "./cannedpicker.js";

const MAX_FILE_BYTES = 16 * 1024 * 1024;

export class Conversation {
  // ---- the conversation ------------------------------------------------------------------------------
  renderConversation() {
    this.header = el("div", {class: "chat-head"});
    // A tab stop of its own, so the keyboard scrolls it.
    this.messages = el("ol", {class: "messages", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": "Messages", tabindex: "0"});
    this.shown = new Set();
    clearTimeout(this.typingTimer);
    this.typing = el("p", {class: "typing", "aria-live": "polite"});
    this.compose = el("div", {class: "compose-wrap"});
    this.replying = null;
    clear(this.conversation, this.header, this.messages, this.typing, this.compose, this.noteForm());
    this.renderHeader();
    for (const message of this.open.Messages) this.addMessage(message);
  }

  renderHeader() {
    const chat = this.open;
    const name = this.customerLabel();
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
      el("button", {type: "button", class: "back", onclick: () => { location.hash = "#/inbox"; }}, "‹ Chats"),
      el("div", {class: "title"}, el("h2", {id: "chat-title"}, name),
        el("span", {class: "meta"}, `${department ? department.Name : "No department"} · ${chat.Channel} · ${state}`),
        chat.Referral ? el("span", {class: "meta referral"}, "From an ad: " +
          [chat.Referral.Headline, chat.Referral.SourceURL].filter(Boolean).join(" · ")) : null),
      el("div", {class: "chat-actions"},
        chat.Status === "Unassigned" ? el("button", {type: "button", class: "primary", onclick: () => this.grab(chat.ChatID)}, "Grab") : null,
        this.store.isManager && ["Unassigned", "Assigned"].includes(chat.Status)
          ? el("button", {type: "button", onclick: () => this.reassignDialog()},
            chat.Status === "Assigned" ? "Reassign" : "Assign") : null,
        this.mine() ? el("button", {type: "button", onclick: () => this.transferDialog()}, "Transfer") : null,
        el("button", {type: "button", onclick: () => attempt(() => download(`/api/ExportChat?ChatID=${chat.ChatID}`,
          `chat-${chat.ChatID}.csv`))}, "Export"),
        this.mine() ? el("button", {type: "button", class: "danger", "aria-keyshortcuts": "c",
          onclick: () => this.confirmClose()}, "Close chat") : null),
      el("div", {class: "tag-row"}, chips, addTag));
    this.renderCompose();
  }

  addMessage(message) {
    if (this.shown.has(message.MessageID)) return;
    this.shown.add(message.MessageID);
    const item = this.messageNode(message);
    const next = [...this.messages.children].find((li) => Number(li.dataset.id) > message.MessageID);
    this.messages.insertBefore(item, next || null);
    arrangeMessages(this.messages, this.store);
    if (!next) this.messages.scrollTop = this.messages.scrollHeight;
  }

  messageNode(message) {
    return messageItem(message, {customerName: this.customerLabel(), store: this.store, list: this.messages,
      onReply: this.mine() ? (m) => this.replyTo(m) : null});
  }

  // The next message answers `message` (WhatsApp shows it quoted): said above the box, until sent or cancelled.
  replyTo(message) {
    this.replying = message;
    const note = this.compose.querySelector(".replying");
    const excerpt = (message.Text || (message.File && message.File.FileName) || "a message").slice(0, 80);
    const shown = el("p", {class: "replying muted"}, `Replying to: ${excerpt} `,
      el("button", {type: "button", class: "link", onclick: () => { this.replying = null; shown.remove(); }},
        "Cancel"));
    if (note) note.replaceWith(shown); else this.compose.prepend(shown);
    const box = this.compose.querySelector("textarea");
    if (box) box.focus();
  }

  renderCompose() {
    if (!this.mine()) {
      const note = this.open.Status === "Closed" ? "This chat is closed."
        : this.open.Status === "Unassigned" ? "Grab this chat to reply." : "Only the agent serving this chat can reply.";
      clear(this.compose, el("p", {class: "muted compose-note"}, note));
      this.compose.dataset.mode = "note";
      return;
    }
    // Outside WhatsApp's 24-hour window only a template may go (templates.js).
    const mode = this.windowOpen() ? "reply" : "template";
    if (this.compose.dataset.mode === mode) return;
    this.compose.dataset.mode = mode;
    if (mode === "template") { this.renderTemplatePicker(); return; }
    const text = el("textarea", {id: "reply", rows: 2, maxlength: 4096, "aria-describedby": "reply-hint"});
    const file = el("input", {type: "file", id: "attach", class: "visually-hidden"});
    const fileName = el("span", {class: "file-name", "aria-live": "polite"});
    file.addEventListener("change", () => { fileName.textContent = file.files[0] ? file.files[0].name : ""; });
    const cannedButton = el("span");
    const formNode = el("form", {class: "compose", "aria-label": "Reply"},
      el("label", {for: "reply"}, "Message"),
      text,
      el("small", {id: "reply-hint"}, "Enter sends, Shift+Enter adds a line; type / and a short code for a canned response."),
      el("div", {class: "compose-actions"},
        el("label", {for: "attach", class: "button"}, "Attach file"), file, cannedButton, fileName,
        el("button", {type: "submit", class: "primary"}, "Send")));
    // Before the box's own Enter (send): a canned response's list takes Enter first.
    cannedButton.replaceWith(attachCanned(this, text));
    text.addEventListener("input", () => {
      if (text.value.trim()) this.tellTyping();
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
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

  // An internal note: any agent who sees the chat, whatever its state; the customer never sees it (AddNote).
  noteForm() {
    const text = el("textarea", {id: "note-text", rows: 1, maxlength: 4096, "aria-describedby": "note-hint"});
    const formNode = el("form", {"aria-label": "Add an internal note"},
      el("label", {for: "note-text"}, "Internal note"), text,
      el("small", {id: "note-hint"}, "Only colleagues see it. Mention someone with @ and their first name, " +
        "full name without spaces, or address before the @."),
      el("div", {class: "compose-actions"}, el("button", {type: "submit"}, "Add note")));
    // Folded until asked for, so that the reply box and the conversation keep the height at 1024 px.
    const folded = el("details", {class: "note-form"}, el("summary", {}, "Add an internal note"), formNode);
    folded.addEventListener("toggle", () => { if (folded.open) text.focus(); });
    formNode.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearFieldErrors(formNode);
      if (!text.value.trim()) { showFieldError(text, "Type the note."); return; }
      const added = await attempt(() => post("AddNote", {ChatID: this.open.ChatID, Text: text.value}));
      if (!added) return;
      this.addMessage(added);
      const names = added.MentionedAgentIDs.map((id) => (this.store.agents.get(id) || {Name: `Agent ${id}`}).Name);
      if (names.length) toast(`Note added; ${names.join(", ")} told.`);
      text.value = "";
    });
    return folded;
  }

  async send(text, file, fileName) {
    clearFieldErrors(text.form);
    const body = {ChatID: this.open.ChatID};
    if (text.value.trim()) body.Message = text.value;
    if (this.replying && this.replying.ChatID === this.open.ChatID) body.ReplyToMessageID = this.replying.MessageID;
    const chosen = file.files[0];
    if (chosen) {
      if (chosen.size > MAX_FILE_BYTES) { toast("That file is larger than 16 MB.", "error"); return; }
      body.FileName = chosen.name;
      body.FileType = chosen.type || "application/octet-stream";
      body.FileContent = await fileToBase64(chosen);
    }
    if (!body.Message && !body.FileContent) { showFieldError(text, "Type a message or attach a file."); return; }
    const message = await attempt(() => post("SendMessage", body));
    if (!message) { this.refreshWindow(); return; }  // refused perhaps because WhatsApp's window has closed
    this.addMessage(message);
    this.replying = null;
    const replying = this.compose.querySelector(".replying");
    if (replying) replying.remove();
    text.value = "";
    file.value = "";
    fileName.textContent = "";
    text.focus();
  }

  async tagAction(call, tagId) {
    const chat = await attempt(() => post(call, {ChatID: this.open.ChatID, TagID: tagId}));
    if (chat) { this.open.TagIDs = chat.TagIDs; this.renderHeader(); }
  }

  confirmClose() {
    const name = this.customerLabel();
    const box = dialog(`Close the chat with ${name}?`,
      el("p", {}, "It leaves your list; the customer's next message starts a new chat."),
      el("div", {class: "actions"},
        el("button", {type: "button", class: "danger", onclick: () => { box.close(); this.close(); }}, "Close chat"),
        el("button", {type: "button", onclick: () => box.close()}, "Cancel")));
    box.querySelector("button.danger").focus();
  }

  async close() {
    const chat = await attempt(() => post("CloseChat", {ChatID: this.open.ChatID}), {success: "Chat closed."});
    if (!chat) return;
    this.chats.delete(chat.ChatID);
    this.leaveChat();
  }

  // Back to the lists once the open chat is no longer the caller's: the address too, and the focus on a row.
  leaveChat() {
    this.renderLists();
    this.showEmpty();
    if (location.hash.split("?")[0] !== "#/inbox") history.pushState(null, "", "#/inbox");
    const next = this.root.querySelector(".chat-list a.open");
    if (next) next.focus();
  }

  // A manager gives a queued or open chat to an agent of its department, whatever their status (AssignChat);
  // each agent shown with their status and how many chats they hold against their limit.
  reassignDialog() {
    const chat = this.open;
    const inHand = (agentId) => [...this.chats.values()].filter((c) => c.Status === "Assigned" && c.AgentID === agentId).length;
    const agents = [...this.store.agents.values()].filter((a) => a.Enabled && a.AgentID !== chat.AgentID &&
      a.DepartmentIDs.includes(chat.DepartmentID)).sort((a, b) => b.StatusID - a.StatusID || a.Name.localeCompare(b.Name));
    const toAgent = field({name: "AgentID", label: "Agent", type: "select", options: agents.map((a) =>
      [a.AgentID, `${a.Name} — ${STATUSES[a.StatusID]}, ${inHand(a.AgentID)} of ${a.MaxConcurrentChats} chats`])});
    const title = chat.Status === "Assigned" ? "Reassign chat" : "Assign chat";
    const box = dialog(title, agents.length ? el("form", {class: "stack", onsubmit: async (e) => {
      e.preventDefault();
      const agentId = Number(e.target.elements.AgentID.value);
      const result = await attempt(() => post("AssignChat", {ChatID: chat.ChatID, AgentID: agentId}),
        {success: `Chat given to ${this.store.agents.get(agentId).Name}.`});
      if (!result) return;
      box.close();
      Object.assign(this.chats.get(chat.ChatID) || {}, result);
      Object.assign(this.open, result);
      this.renderLists();
      this.renderHeader();
    }}, toAgent, el("button", {type: "submit", class: "primary"}, title))
      : el("p", {class: "muted"}, "No other enabled agent belongs to this chat's department."));
  }

  transferDialog() {
    const chat = this.open;
    const me = this.store.me.AgentID;
    const departments = this.store.departments.filter((d) => d.Enabled && d.DepartmentID !== chat.DepartmentID);
    const online = [...this.store.agents.values()].filter((a) => a.Enabled && a.StatusID === 4 &&
      a.AgentID !== me && a.AgentID !== chat.AgentID &&
      a.DepartmentIDs.includes(chat.DepartmentID));
    const toDepartment = field({name: "DepartmentID", label: "Department", type: "select",
      options: departments.map((d) => [d.DepartmentID, d.Name])});
    const toAgent = field({name: "AgentID", label: "Agent (online, in this department)", type: "select",
      options: online.map((a) => [a.AgentID, `${a.Name} (${STATUSES[a.StatusID]})`])});
    const done = async (call, body) => {
      const result = await attempt(() => post(call, {ChatID: chat.ChatID, ...body}), {success: "Chat transferred."});
      if (!result) return;
      box.close();
      if (this.store.isManager) {
        this.chats.set(chat.ChatID, {...(this.chats.get(chat.ChatID) || {}), ...result});
        Object.assign(this.open, result);
        this.renderLists();
        this.renderHeader();
      } else if (!(result.Status === "Assigned" && result.AgentID === me)) {
        this.chats.delete(chat.ChatID);
        this.leaveChat();
      }
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
      clearFieldErrors(details);
      const updated = await post("UpdateCustomer", body).catch((error) => { showFormError(details, error); });
      if (updated) toast("Customer saved.");
      if (updated) { this.open.Customer = updated; this.renderHeader(); }
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
      clearFieldErrors(addComment);
      if (!text) { showFieldError(addComment.elements.Comment, "Write the comment first."); return; }
      const updated = await attempt(() => post("AddComment", {CustomerID: customer.CustomerID, Comment: text}));
      if (updated) { this.open.Customer = updated; this.renderCustomer(); }
    });
    const earlier = el("div", {id: "earlier-chats"}, el("p", {class: "muted"}, "Loading…"));
    clear(this.customer, el("h2", {id: "customer-title"}, "Customer"), details,
      el("h3", {}, "Comments"), customer.Comments.length ? comments : el("p", {class: "muted"}, "No comments yet."),
      this.open.Status !== "Closed" ? addComment : null,
      el("h3", {}, "Earlier chats"), earlier);
    this.renderEarlierChats(earlier, customer.CustomerID, this.open.ChatID);
  }

  // The customer's other chats (GetChats by CustomerID), newest first, each readable in a dialog.
  async renderEarlierChats(holder, customerId, chatId) {
    const data = await get("GetChats", {CustomerID: customerId, PageSize: 20}).catch(() => null);
    const chats = data ? data.Items.filter((c) => c.ChatID !== chatId) : [];
    clear(holder, chats.length ? el("ul", {class: "earlier"}, chats.map((c) => {
      const department = this.store.department(c.DepartmentID);
      const when = time(c.CreatedAt);
      return el("li", {}, el("span", {}, `${when} · ${department ? department.Name : "No department"} · ` +
        c.Status.toLowerCase()),
      c.LastMessage && c.LastMessage.Text ? el("span", {class: "meta snippet"}, c.LastMessage.Text) : null,
      el("button", {type: "button", class: "link", "aria-label": `Read the chat of ${when}`, onclick: () => {
        const body = el("div", {class: "transcript"});
        dialog(`Chat of ${when}`, body);
        showTranscript(body, c.ChatID, {store: this.store, tagNames: this.allTags});
      }}, "Read"));
    })) : el("p", {class: "muted"}, "None."));
  }
}
