// Canned responses in the reply box: "/" and a short code list the matches over the conversation, the first one
// chosen; arrows move, Enter or Tab takes it, Escape closes. A bare "/code" is never sent as it is. A button
// browses them all. The focus stays in the reply box (a combobox with aria-activedescendant).
import {get} from "./api.js";
import {el, clear, attempt, dialog, showFieldError, clearFieldErrors} from "./ui.js";

const MAX_SHOWN = 8;
const BARE_CODE = /^\/([\w-]*)$/;

// Fits the reply box `text` with the list; returns the "Canned responses" button for the compose actions.
export function attachCanned(view, text) {
  const list = el("ul", {class: "suggestions", id: "canned-list", role: "listbox", "aria-label": "Canned responses",
    hidden: true});
  text.setAttribute("role", "combobox");
  text.setAttribute("aria-autocomplete", "list");
  text.setAttribute("aria-controls", "canned-list");
  text.setAttribute("aria-expanded", "false");
  text.before(list);
  let found = [];
  let active = 0;

  const close = () => {
    list.hidden = true;
    found = [];
    text.setAttribute("aria-expanded", "false");
    text.removeAttribute("aria-activedescendant");
  };
  const highlight = (index) => {
    active = (index + found.length) % found.length;
    for (const [n, item] of [...list.children].entries()) item.setAttribute("aria-selected", String(n === active));
    text.setAttribute("aria-activedescendant", `canned-${found[active].CannedResponseID}`);
    list.children[active].scrollIntoView({block: "nearest"});
  };
  const take = async (canned) => {
    close();
    await insert(view, canned, text);
  };
  const matches = () => {
    const match = BARE_CODE.exec(text.value);
    return match ? view.canned.filter((c) => c.ShortCode && c.ShortCode.startsWith(match[1].toLowerCase())) : null;
  };
  const open = () => {
    const all = matches();
    if (!all || !all.length) { close(); return; }
    found = all.slice(0, MAX_SHOWN);
    clear(list, found.map((c) => el("li", {role: "option", id: `canned-${c.CannedResponseID}`,
      onmousedown: (event) => { event.preventDefault(); take(c); }},
    el("span", {class: "code"}, "/" + c.ShortCode), " ", el("span", {class: "name"}, c.Name),
    el("span", {class: "preview"}, c.Text))));
    list.hidden = false;
    text.setAttribute("aria-expanded", "true");
    highlight(0);
  };

  text.addEventListener("input", open);
  text.addEventListener("blur", () => setTimeout(close, 150));
  // Runs before the reply box's own Enter (send): registered first, and stops it.
  text.addEventListener("keydown", (event) => {
    if (!list.hidden && found.length) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
        event.preventDefault();
        event.stopImmediatePropagation();
        take(found[active]);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    } else if (event.key === "Enter" && !event.shiftKey && BARE_CODE.test(text.value)) {
      // A short code that matched nothing (or whose list was closed) is not a message.
      event.preventDefault();
      event.stopImmediatePropagation();
      const all = matches();
      if (all && all.length) { open(); return; }
      showFieldError(text, `No canned response has the short code ${text.value}.`);
    }
  });
  return el("button", {type: "button", onclick: () => browse(view, text)}, "Canned responses");
}

// The response's text, its variables filled in for this chat (RenderCannedResponse), put in the box to edit.
async function insert(view, canned, text) {
  const rendered = await attempt(() => get("RenderCannedResponse",
    {CannedResponseID: canned.CannedResponseID, ChatID: view.open.ChatID}));
  clearFieldErrors(text.form);
  text.value = rendered ? rendered.Text : canned.Text;
  text.focus();
  text.setSelectionRange(text.value.length, text.value.length);
}

function browse(view, text) {
  const search = el("input", {type: "search", id: "canned-search", autocomplete: "off",
    oninput: () => fill(search.value.trim().toLowerCase())});
  const items = el("ul", {class: "canned-browse"});
  const fill = (word) => clear(items, view.canned.filter((c) => !word ||
    [c.Name, c.ShortCode, c.Text].join(" ").toLowerCase().includes(word)).map((c) =>
    el("li", {}, el("div", {}, el("strong", {}, c.Name), c.ShortCode ? el("span", {class: "meta"}, ` /${c.ShortCode}`) : null,
      el("p", {class: "preview"}, c.Text)),
    el("button", {type: "button", "aria-label": `Use ${c.Name}`, onclick: async () => { box.close(); await insert(view, c, text); }},
      "Use"))));
  const box = dialog("Canned responses",
    el("div", {class: "field"}, el("label", {for: "canned-search"}, "Search canned responses"), search),
    view.canned.length ? items : el("p", {class: "muted"}, "There are no canned responses yet."));
  fill("");
  search.focus();
}
