// What a customer's WhatsApp message held beyond text (the Message's Content, docs/whatsapp.md), drawn readably.
// Everything goes in as text (el() never uses innerHTML); links only to http(s) URLs.
import {el} from "./ui.js";

function link(url, label) {
  return /^https?:\/\//i.test(url || "") ? el("a", {href: url, target: "_blank", rel: "noopener noreferrer"},
    label || url) : null;
}

function rows(pairs) {
  return el("dl", {class: "content-fields"}, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

const DRAW = {
  Order: (c) => el("div", {class: "content order"}, el("strong", {}, "Order"),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Item"), el("th", {}, "Qty"), el("th", {}, "Price"))),
      el("tbody", {}, (c.Items || []).map((i) => el("tr", {}, el("td", {}, i.ProductRetailerID),
        el("td", {}, String(i.Quantity)), el("td", {}, i.ItemPrice ? `${i.ItemPrice} ${i.Currency || ""}` : "–"))))),
    c.Total ? el("p", {}, `Total: ${c.Total} ${c.Currency || ""}`) : null,
    c.Text ? el("p", {class: "muted"}, c.Text) : null),
  FlowReply: (c) => el("div", {class: "content flow"}, el("strong", {}, `Form answers (${c.Name || "flow"})`),
    rows(Object.entries(c.Answers || {}))),
  Location: (c) => el("div", {class: "content location"}, el("strong", {}, "Location"),
    el("p", {}, [c.Name, c.Address].filter(Boolean).join(", ") || `${c.Latitude}, ${c.Longitude}`),
    link(c.MapURL, "Open in a map")),
  Contacts: (c) => el("div", {class: "content contacts"}, (c.Cards || []).map((card) =>
    el("div", {class: "card"}, el("strong", {}, card.Name),
      rows([["Phone", (card.Phones || []).join(", ")], ["E-mail", (card.Emails || []).join(", ")],
        ["Company", card.Company]])))),
};

// The structured part of a message (null when there is none worth drawing beyond its text).
export function contentNode(message) {
  const content = message.Content;
  if (!content) return null;
  const draw = DRAW[content.Type];
  const referral = content.Referral;
  return el("div", {class: "content-wrap"},
    draw ? draw(content) : null,
    referral ? el("div", {class: "content referral"}, el("strong", {}, "From an ad"),
      rows([["Headline", referral.Headline], ["Text", referral.Body], ["Ad ID", referral.SourceID]]),
      link(referral.SourceURL, "The ad")) : null);
}

// Whether the text only repeats what the drawing shows (then the drawing replaces it).
export function drawnInstead(message) {
  return Boolean(message.Content && DRAW[message.Content.Type]);
}
