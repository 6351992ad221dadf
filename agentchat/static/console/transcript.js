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
      : message.SenderType === "Bot" ? "Bot" : "System";
  const drawn = contentNode(message);
  return el("li", {class: `msg ${message.SenderType}` + (message.AgentID === me ? " mine" : ""),
    dataset: {id: message.MessageID}},
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
  const messages = el("ol", {class: "messages", "aria-label": "Messages"},
    detail.Messages.map((m) => messageItem(m, {customerName: name, store})));
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
