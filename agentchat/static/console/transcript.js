// A chat as it reads: one message's bubble (the inbox's too), and a closed or someone else's chat read-only
// (the Customers and History views).
import {get, download} from "./api.js";
import {el, clear, attempt, time} from "./ui.js";
import {attachment} from "./media.js";
import {contentNode, drawnInstead} from "./content.js";

export function size(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// An erased customer has no name, phone or e-mail left: the ID is all there is to call them by.
export function customerName(customer) {
  return customer.Name || customer.PhoneNumber || (customer.WhatsAppUsername && `@${customer.WhatsAppUsername}`)
    || `Customer ${customer.CustomerID}`;
}

// The message a reply quotes, from the same list (a short excerpt), or a plain note when it is not shown.
function quoted(message, list) {
  if (!message.ReplyToMessageID) return null;
  const original = list && list.querySelector(`li[data-id="${message.ReplyToMessageID}"] .text`);
  const excerpt = original ? original.textContent.slice(0, 140) : "an earlier message";
  return el("blockquote", {class: "quoted"}, `In reply to: ${excerpt}`);
}

export function messageItem(message, {customerName: name, store, list = null, onReply = null}) {
  const me = store.me.AgentID;
  const agent = message.AgentID ? store.agents.get(message.AgentID) : null;
  const who = message.SenderType === "Customer" ? (name || "Customer")
    : message.SenderType === "Agent" ? (message.AgentID === me ? "You" : agent ? agent.Name : "Agent")
      : message.SenderType === "Note" ? `Internal note · ${message.AgentID === me ? "You" : agent ? agent.Name : "Agent"}`
        : message.SenderType === "Bot" ? "Bot" : "System";
  const drawn = contentNode(message);
  return el("li", {class: `msg ${message.SenderType}` + (message.AgentID === me ? " mine" : ""),
    dataset: {id: message.MessageID, at: message.CreatedAt}},
    el("span", {class: "who"}, who),
    quoted(message, list),
    drawn,
    message.Text ? el("span", {class: "text" + (drawn && drawnInstead(message) ? " visually-hidden" : "")},
      message.Text)
      : message.File || drawn ? null : el("span", {class: "text muted"}, "(no text)"),
    message.MediaStatus === "Pending" ? el("span", {class: "muted media-pending"}, "File on its way from WhatsApp…")
      : null,
    message.File ? attachment(message.File) : null,
    message.Reaction ? el("span", {class: "reaction", title: "The customer's reaction"}, message.Reaction) : null,
    onReply && message.SenderType === "Customer" ? el("button", {type: "button", class: "link reply-to",
      onclick: () => onReply(message)}, "Reply to this") : null,
    el("span", {class: "when"}, time(message.CreatedAt),
      message.SenderType === "Agent" && message.DeliveryStatus ? el("span", {class: "status"},
        message.DeliveryStatus + (message.FailureReason ? `: ${message.FailureReason}` : "")) : null));
}

// TagID -> "Group: Tag", disabled ones included: a closed chat keeps the tags it had.
export async function loadTagNames() {
  const tags = await attempt(() => get("GetTags"));
  return new Map((tags ? tags.Items : []).flatMap((g) => g.Tags.map((t) => [t.TagID, `${g.Name}: ${t.Name}`])));
}

export function chatSummary(chat, store) {
  const department = store.department(chat.DepartmentID);
  const agent = chat.AgentID ? store.agents.get(chat.AgentID) : null;
  return [department ? department.Name : "No department", chat.Channel,
    chat.Status === "Closed" ? `closed ${time(chat.ClosedAt)}` : chat.Status.toLowerCase(),
    agent ? `by ${agent.Name}` : null].filter(Boolean).join(" · ");
}

// Fetches the chat and shows it in container, without a reply box; the heading takes focus so that a keyboard
// or screen reader user lands on what they opened.
export async function showTranscript(container, chatId, {store, tagNames}) {
  const detail = await attempt(() => get("GetChat", {ChatID: chatId}));
  if (!detail) return null;
  const name = customerName(detail.Customer);
  const heading = el("h2", {id: "transcript-title", tabindex: "-1"}, `${name}, ${time(detail.CreatedAt)}`);
  const messages = el("ol", {class: "messages", "aria-label": "Messages", tabindex: "0"},
    detail.Messages.map((m) => messageItem(m, {customerName: name, store})));
  arrangeMessages(messages, store);
  clear(container,
    el("div", {class: "chat-head"},
      el("div", {class: "title"}, heading, el("span", {class: "meta"}, chatSummary(detail, store))),
      el("div", {class: "chat-actions"},
        el("button", {type: "button", onclick: () => attempt(() => download(`/api/ExportChat?ChatID=${detail.ChatID}`,
          `chat-${detail.ChatID}.csv`))}, "Export CSV")),
      el("div", {class: "tag-row"}, (detail.TagIDs || []).length
        ? el("ul", {class: "tags", "aria-label": "Tags"}, detail.TagIDs.map((id) =>
          el("li", {class: "tag"}, tagNames.get(id) || `Tag ${id}`)))
        : el("span", {class: "meta"}, "No tags"))),
    messages.children.length ? messages : el("p", {class: "empty"}, "No messages."),
    detail.Status !== "Closed" ? el("p", {class: "muted compose-note"}, "This chat is open: answer it from the Inbox.")
      : null);
  heading.focus();
  return detail;
}

// "Today", "Yesterday" or the date, between the messages of different days.
function dayLabel(iso) {
  const at = new Date(iso), today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (at.toDateString() === today.toDateString()) return "Today";
  if (at.toDateString() === yesterday.toDateString()) return "Yesterday";
  return at.toLocaleDateString([], {weekday: "long", day: "numeric", month: "long", year: "numeric"});
}

// The company's queued message ("You are number {Position} in the queue…") as a pattern, for the bot's updates.
function queuePattern(store) {
  const template = (store.settings && store.settings.QueuedMessage) || "";
  if (!template.includes("{Position}")) return null;
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp("^" + template.split("{Position}").map(escape).join("\\d+") + "$");
}

// Day separators, and the bot's queue-position updates folded to the latest one (a button shows the others).
export function arrangeMessages(list, store) {
  for (const node of list.querySelectorAll(":scope > .day, :scope > .fold")) node.remove();
  let day = null;
  for (const item of [...list.querySelectorAll(":scope > .msg")]) {
    const label = item.dataset.at ? dayLabel(item.dataset.at) : null;
    if (label && label !== day) list.insertBefore(el("li", {class: "day", role: "separator"}, label), item);
    day = label || day;
  }
  const pattern = queuePattern(store);
  if (!pattern) return;
  const updates = [...list.querySelectorAll(":scope > .msg.Bot")].filter((item) => {
    const text = item.querySelector(".text");
    return text && pattern.test(text.textContent.trim());
  });
  const unfolded = list.dataset.unfolded === "1";
  updates.forEach((item, n) => item.classList.toggle("folded", !unfolded && n < updates.length - 1));
  if (updates.length > 1 && !unfolded) {
    const count = updates.length - 1;
    list.insertBefore(el("li", {class: "fold"}, el("button", {type: "button", class: "link", onclick: () => {
      list.dataset.unfolded = "1";
      arrangeMessages(list, store);
    }}, `Show ${count} earlier queue update${count === 1 ? "" : "s"}`)), updates[updates.length - 1]);
  }
}
