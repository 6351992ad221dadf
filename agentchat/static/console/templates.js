// WhatsApp's 24-hour window in the conversation pane (methods of AgentView, kept apart for size): outside it the
// reply box gives way to a picker of approved templates, with a field per placeholder and a live preview.
import {get, post} from "./api.js";
import {el, clear, toast, attempt} from "./ui.js";

const PARTS = [["Header", "Header"], ["Body", "Body"], ["Buttons", "Button"]];

export class TemplatePicker {
  // Free text may go (SendMessage) unless GetChat said WhatsApp's window is closed, or its end has passed since.
  windowOpen() {
    const chat = this.open;
    if (!chat || chat.WindowOpen === undefined) return true;
    if (chat.WindowOpen && chat.WindowClosesAt && Date.now() > Date.parse(chat.WindowClosesAt)) chat.WindowOpen = false;
    return chat.WindowOpen;
  }

  // Called every second: the reply box turns into the picker when the window closes while the chat is shown.
  checkWindow() {
    if (this.open && this.mine() && this.compose && this.compose.dataset.mode === "reply" && !this.windowOpen()) {
      this.renderCompose();
    }
  }

  // A customer's message on WhatsApp opens the window again (for 24 hours from it): a closed one is asked of
  // GetChat, which knows exactly; an open one just lasts longer.
  customerWrote(message) {
    if (!this.windowOpen()) { this.refreshWindow(); return; }
    const ends = Date.parse(message.CreatedAt) + 24 * 3600 * 1000;
    if (!this.open.WindowClosesAt || ends > Date.parse(this.open.WindowClosesAt)) {
      this.open.WindowClosesAt = new Date(ends).toISOString();
    }
  }

  // A send was refused, perhaps for the window, or the customer wrote into a closed one: GetChat knows its state.
  async refreshWindow() {
    if (!this.open || this.open.Channel !== "WhatsApp") return;
    const chatId = this.open.ChatID;
    const detail = await get("GetChat", {ChatID: chatId}).catch(() => null);
    if (!detail || !this.open || this.open.ChatID !== chatId) return;
    this.open.WindowOpen = detail.WindowOpen;
    this.open.WindowClosesAt = detail.WindowClosesAt;
    this.renderCompose();
  }

  async renderTemplatePicker() {
    const chat = this.open;
    const closed = chat.WindowClosesAt ? new Date(chat.WindowClosesAt).toLocaleString([],
      {dateStyle: "medium", timeStyle: "short"}) : null;
    const why = closed
      ? `Free text is off: WhatsApp lets a business reply freely only within 24 hours of the customer's last ` +
        `message, and that window closed on ${closed}.`
      : "Free text is off: WhatsApp lets a business reply freely only within 24 hours of a message from the customer.";
    const note = el("p", {class: "compose-note window-note", id: "window-note"}, why,
      " Send an approved template instead; when the customer answers, you can write freely again.");
    const body = el("div", {class: "template-fields"}, el("p", {class: "muted"}, "Loading templates…"));
    const formNode = el("form", {class: "compose template-compose", "aria-label": "Send a template",
      "aria-describedby": "window-note"}, note, body);
    clear(this.compose, formNode);
    const data = await attempt(() => get("GetTemplates", {Status: "APPROVED"}));
    if (!this.open || this.open.ChatID !== chat.ChatID || !formNode.isConnected) return;
    const usable = (data ? data.Items : []).filter((t) => t.Sendable);
    if (!usable.length) {
      clear(body, el("p", {class: "muted"}, "There are no approved templates yet."),
        this.store.isManager ? el("button", {type: "button", onclick: () => this.syncTemplates()},
          "Sync templates from WhatsApp") : el("p", {class: "muted"}, "A manager can sync them from WhatsApp."));
      return;
    }
    const choose = el("select", {id: "template-choice", name: "Template"},
      usable.map((t, i) => el("option", {value: String(i)}, `${t.Name} (${t.Language})`)));
    const fields = el("div", {class: "template-params"});
    const preview = el("p", {class: "template-preview", id: "template-preview", "aria-live": "polite"});
    const show = () => this.templateFields(usable[Number(choose.value)], fields, preview);
    choose.addEventListener("change", show);
    clear(body, el("div", {class: "field"}, el("label", {for: "template-choice"}, "Template"), choose),
      fields, el("div", {}, el("span", {class: "muted"}, "Preview"), preview),
      el("div", {class: "compose-actions"}, el("button", {type: "submit", class: "primary"}, "Send template")));
    show();
    formNode.addEventListener("submit", async (event) => {
      event.preventDefault();
      await this.sendTemplate(usable[Number(choose.value)], fields);
    });
  }

  // One input per placeholder (the template's Parameters), the preview filled in as the agent types.
  templateFields(template, fields, preview) {
    const inputs = [];
    clear(fields, PARTS.flatMap(([part, label]) => template.Parameters[part].map((p, i) => {
      const id = `template-${part}-${i}`;
      const what = part === "Buttons" ? `${label} “${p.Name}”` : p.Type === "Text" ? `${label} {{${p.Name}}}`
        : `${label} ${p.Type.toLowerCase()} (https:// link)`;
      const input = el("input", {id, name: `${part}.${i}`, required: true, maxlength: 2000, autocomplete: "off",
        placeholder: p.Example || "", type: p.Type === "Text" || p.Type === "CouponCode" ? "text" : "url",
        dataset: {part, name: p.Name}});
      inputs.push(input);
      input.addEventListener("input", () => { preview.textContent = fill(template, inputs); });
      return el("div", {class: "field"}, el("label", {for: id}, what), input);
    })));
    if (!inputs.length) fields.append(el("p", {class: "muted"}, "This template has nothing to fill in."));
    preview.textContent = fill(template, inputs);
  }

  async sendTemplate(template, fields) {
    const parameters = {Header: [], Body: [], Buttons: []};
    for (const input of fields.querySelectorAll("input")) parameters[input.dataset.part].push(input.value.trim());
    const message = await attempt(() => post("SendTemplate", {ChatID: this.open.ChatID, TemplateName: template.Name,
      Language: template.Language, Parameters: parameters}), {success: "Template sent."});
    if (!message) return;
    this.addMessage(message);
    for (const input of fields.querySelectorAll("input")) input.value = "";
  }

  async syncTemplates() {
    const result = await attempt(() => post("SyncTemplates"));
    if (result) toast(`${result.Synced} templates synced from WhatsApp.`);
    if (this.open && this.compose.dataset.mode === "template") this.renderTemplatePicker();
  }
}

// The template's text with what has been typed so far in place of its placeholders.
function fill(template, inputs) {
  const given = (part) => new Map(inputs.filter((i) => i.dataset.part === part && i.value.trim())
    .map((i) => [i.dataset.name, i.value.trim()]));
  const header = given("Header"), body = given("Body");
  const headerText = (template.Components.find((c) => String(c.type).toUpperCase() === "HEADER") || {}).text;
  const bodyText = (template.Components.find((c) => String(c.type).toUpperCase() === "BODY") || {}).text;
  let text = template.Preview;
  if (headerText) text = text.replace(headerText, () => substitute(headerText, header));
  if (bodyText) text = text.replace(bodyText, () => substitute(bodyText, body));
  return text;
}

function substitute(text, values) {
  return text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (all, name) => values.get(name) || all);
}
