// Small DOM helpers. Text from the server only ever goes in through textContent (never innerHTML).

// el("button", {class: "primary", onclick: fn, "aria-label": "..."}, "text", childNode, ...)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// Toasts sit under the top bar, away from the reply box's Send, in the top layer (a manual popover, shown again
// for each one); while a modal dialog is open they show inside it, since everything outside a modal dialog is
// inert. A new view clears them (clearToasts).
export function toast(message, kind = "info") {
  const item = el("p", {class: "toast " + kind, role: kind === "error" ? "alert" : undefined}, message);
  const modal = document.querySelector("dialog[open]");
  if (modal) {
    let holder = modal.querySelector(".dialog-toasts");
    if (!holder) {
      holder = el("div", {class: "dialog-toasts", "aria-live": "polite"});
      modal.querySelector(".dialog-head").after(holder);
    }
    holder.append(item);
    setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
    return;
  }
  const box = document.getElementById("toasts");
  box.append(item);
  if (box.showPopover) {
    if (box.matches(":popover-open")) box.hidePopover();
    box.showPopover();
  }
  setTimeout(() => { item.remove(); if (!box.children.length && box.hidePopover && box.matches(":popover-open")) box.hidePopover(); },
    kind === "error" ? 8000 : 4000);
}

export function clearToasts() {
  const box = document.getElementById("toasts");
  if (!box) return;
  box.replaceChildren();
  if (box.hidePopover && box.matches(":popover-open")) box.hidePopover();
}

// Runs an action, shows its error (if any) and returns its result or undefined.
export async function attempt(action, {success} = {}) {
  try {
    const result = await action();
    if (success) toast(success);
    return result;
  } catch (error) {
    toast(humanMessage(error), "error");
    return undefined;
  }
}

// The service's validation wording ("Name: String should have at least 1 character") said as a person would.
const WORDING = [
  [/^Input should be a valid (string|list)$|^String should have at least 1 character$|is required\.?$/, () => "Fill this in."],
  [/^String should have at most (\d+) characters?$/, (m) => `Use at most ${m[1]} characters.`],
  [/^String should have at least (\d+) characters?$/, (m) => `Use at least ${m[1]} characters.`],
  [/valid e-?mail address/i, () => "Enter an e-mail address like name@example.com."],
  [/^Input should be a valid (integer|number)/, () => "Enter a whole number."],
  [/^Input should be greater than or equal to (\S+)$/, (m) => `Use ${m[1]} or more.`],
  [/^Input should be less than or equal to (\S+)$/, (m) => `Use ${m[1]} or less.`],
  [/^Input should be greater than (\S+)$/, (m) => `Use more than ${m[1]}.`],
  [/^Input should be a valid boolean/, () => "Choose yes or no."],
  [/^Value error, (.*)$/, (m) => m[1].charAt(0).toUpperCase() + m[1].slice(1)],
];

export function humanMessage(error, {inline = false} = {}) {
  let text = (error && error.message) || String(error);
  if (error && error.field && text.startsWith(error.field + ": ")) text = text.slice(error.field.length + 2);
  else if (error && error.field && text.startsWith(error.field + " ")) text = text.slice(error.field.length + 1);
  for (const [pattern, say] of WORDING) {
    const match = pattern.exec(text);
    if (match) { text = say(match); break; }
  }
  text = text.charAt(0).toUpperCase() + text.slice(1);
  return inline || !error || !error.field ? text : `${fieldLabel(error.field)}: ${text}`;
}

// "EmailAddress" -> "E-mail address", for an error that cannot sit beside its field.
function fieldLabel(name) {
  if (name === "EmailAddress") return "E-mail address";
  const words = name.replace(/ID$/, "").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// Marks a form's control invalid with the message under it, and moves the focus there.
export function showFieldError(control, message) {
  const holder = control.closest(".field") || control.parentElement;
  let note = holder.querySelector(".field-error");
  if (!note) {
    note = el("small", {class: "field-error", id: nextId("err")});
    holder.append(note);
  }
  note.textContent = message;
  control.setAttribute("aria-invalid", "true");
  const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!described.includes(note.id)) control.setAttribute("aria-describedby", [note.id, ...described].join(" "));
  control.focus();
}

export function clearFieldErrors(form) {
  for (const note of form.querySelectorAll(".field-error")) {
    const control = form.querySelector(`[aria-describedby~="${note.id}"]`);
    if (control) {
      control.removeAttribute("aria-invalid");
      const rest = control.getAttribute("aria-describedby").split(" ").filter((id) => id && id !== note.id);
      if (rest.length) control.setAttribute("aria-describedby", rest.join(" ")); else control.removeAttribute("aria-describedby");
    }
    note.remove();
  }
  const summary = form.querySelector(".form-error");
  if (summary) summary.remove();
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || isNaN(seconds)) return "–";
  seconds = Math.max(0, Math.round(seconds));
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  if (h) return `${h}h ${String(m).padStart(2, "0")}m`;
  return `${m}:${String(s).padStart(2, "0")}`;
}

export function since(iso) {
  return iso ? (Date.now() - Date.parse(iso)) / 1000 : null;
}

export function time(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  const today = new Date().toDateString() === at.toDateString();
  return today ? at.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"})
    : at.toLocaleString([], {day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"});
}

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

// A labelled field. spec: {name, label, type, options:[[value,label]], required, value, hint, max, min, maxlength}
export function field(spec) {
  const id = nextId("f-" + spec.name);
  const hintId = spec.hint ? id + "-hint" : undefined;
  let control;
  if (spec.type === "select") {
    control = el("select", {id, name: spec.name, required: spec.required, "aria-describedby": hintId},
      spec.options.map(([value, label]) => el("option", {value: String(value)}, label)));
    if (spec.value !== undefined && spec.value !== null) control.value = String(spec.value);
  } else if (spec.type === "textarea") {
    control = el("textarea", {id, name: spec.name, rows: spec.rows || 3, maxlength: spec.maxlength || 4096,
      required: spec.required, "aria-describedby": hintId});
    control.value = spec.value || "";
  } else if (spec.type === "checkbox") {
    control = el("input", {id, name: spec.name, type: "checkbox", "aria-describedby": hintId});
    control.checked = Boolean(spec.value);
    return el("div", {class: "field check"}, control, el("label", {for: id}, spec.label),
      spec.hint && el("small", {id: hintId}, spec.hint));
  } else if (spec.type === "checkboxes") {
    const chosen = new Set((spec.value || []).map(String));
    return el("fieldset", {class: "field checks", dataset: {name: spec.name, kind: "checkboxes"}},
      el("legend", {}, spec.label),
      spec.options.length ? spec.options.map(([value, label]) => {
        const boxId = nextId("f-" + spec.name);
        const box = el("input", {id: boxId, type: "checkbox", value: String(value)});
        box.checked = chosen.has(String(value));
        return el("span", {class: "check"}, box, el("label", {for: boxId}, label));
      }) : el("small", {}, "None yet."));
  } else {
    control = el("input", {id, name: spec.name, type: spec.type || "text", required: spec.required,
      maxlength: spec.maxlength || (spec.type === "number" ? undefined : 255), min: spec.min, max: spec.max,
      autocomplete: spec.autocomplete || "off", "aria-describedby": hintId, placeholder: spec.placeholder});
    if (spec.value !== undefined && spec.value !== null) control.value = spec.value;
  }
  if (spec.required) control.setAttribute("aria-required", "true");
  // A required field's label gets a star from the stylesheet, without text for assistive technology: they hear
  // the control's aria-required, and the field's name stays its label.
  return el("div", {class: "field"}, el("label", {for: id, class: spec.required ? "required" : undefined}, spec.label),
    control, spec.hint && el("small", {id: hintId}, spec.hint));
}

// Reads a form built with field(): numbers as numbers, checkboxes as booleans, checkbox groups as lists.
export function values(form, specs) {
  const out = {};
  for (const spec of specs) {
    if (spec.type === "checkboxes") {
      const set = form.querySelector(`fieldset[data-name="${spec.name}"]`);
      out[spec.name] = [...set.querySelectorAll("input:checked")].map((box) =>
        spec.numeric === false ? box.value : Number(box.value));
      continue;
    }
    const control = form.elements[spec.name];
    if (spec.type === "checkbox") out[spec.name] = control.checked;
    else if (spec.type === "number") out[spec.name] = control.value === "" ? null : Number(control.value);
    else if (spec.numeric) out[spec.name] = control.value === "" ? null : Number(control.value);
    else out[spec.name] = control.value.trim() === "" ? null : control.value.trim();
  }
  return out;
}

// A form from field specs. A required field left empty is caught here; an error from onSubmit (an ApiError) shows
// beside its Field (marked invalid, focused), or at the top of the form when it names none.
export function form(specs, {submit = "Save", onSubmit, extra = [], cancel} = {}) {
  const required = specs.some((spec) => spec.required);
  const node = el("form", {class: "stack", novalidate: true},
    required && specs.length > 1 ? el("p", {class: "muted required-note"}, "Fields marked * are required.") : null,
    specs.map(field), extra,
    el("div", {class: "actions"}, el("button", {type: "submit", class: "primary"}, submit),
      cancel && el("button", {type: "button", onclick: cancel}, "Cancel")));
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(node);
    const missing = specs.find((spec) => spec.required && node.elements[spec.name] &&
      !String(node.elements[spec.name].value || "").trim());
    if (missing) { showFieldError(node.elements[missing.name], "Fill this in."); return; }
    const button = node.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await onSubmit(values(node, specs));
    } catch (error) {
      showFormError(node, error);
    } finally {
      button.disabled = false;
    }
  });
  return node;
}

export function showFormError(node, error) {
  const control = error.field && node.elements[error.field];
  if (control && control.focus) { showFieldError(control, humanMessage(error, {inline: true})); return; }
  const summary = el("p", {class: "form-error", role: "alert", tabindex: "-1"}, humanMessage(error));
  node.prepend(summary);
  summary.focus();
}

// A modal dialog (the platform's <dialog>: focus trap and Escape come with it).
export function dialog(title, ...content) {
  const titleId = nextId("dlg");
  const node = el("dialog", {"aria-labelledby": titleId},
    el("div", {class: "dialog-head"}, el("h2", {id: titleId}, title),
      el("button", {type: "button", class: "icon", "aria-label": "Close", onclick: () => node.close()}, "×")),
    content);
  node.addEventListener("close", () => node.remove());
  document.body.append(node);
  node.showModal();
  return node;
}

// A table: columns [{label, value: (row) => text|Node}]
export function table(caption, columns, rows, empty = "Nothing here yet.") {
  if (!rows.length) return el("p", {class: "empty"}, empty);
  return el("div", {class: "table-wrap"}, el("table", {},
    el("caption", {class: "visually-hidden"}, caption),
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", {scope: "col"}, c.label)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, columns.map((c) => el("td", {"data-label": c.label}, c.value(row))))))));
}

// The service counts a long list (SearchCustomer, GetChats) only up to 200 matches, or one past the page asked
// for if that is deeper (contract.COUNT_CAP): a Total there means "at least", and still says if a next page exists.
const COUNT_CAP = 200;

// "21–40 of 200+" with Previous and Next for a page of a list call; onPage(n) loads page n.
export function pager(label, data, onPage) {
  const {Page: page, PageSize: pageSize, Total: total, Items: items} = data;
  const first = (page - 1) * pageSize + 1;
  const capped = total >= Math.max(COUNT_CAP, page * pageSize + 1);
  const text = items.length ? `${first}–${first + items.length - 1} of ${total}${capped ? "+" : ""}` : "No more.";
  return el("nav", {class: "pager", "aria-label": label},
    el("button", {type: "button", disabled: page <= 1, onclick: () => onPage(page - 1)}, "Previous"),
    el("span", {class: "meta", role: "status"}, text),
    el("button", {type: "button", disabled: page * pageSize >= total, onclick: () => onPage(page + 1)}, "Next"));
}

export const STATUSES = {1: "Offline", 2: "Busy", 3: "On break", 4: "Online"};
export const ROLES = {1: "Agent", 2: "Manager"};

// Sound and desktop notifications need a user gesture first (browsers' rule), hence the button. The choice is
// kept in this browser: on the next visit the sound is armed by the first click or key press.
const alerts = {audio: null};
const ALERTS_KEY = "agentchat.console.alerts";

export const alertsWanted = () => localStorage.getItem(ALERTS_KEY) === "on";

function armSound() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (Ctx && !alerts.audio) alerts.audio = new Ctx();
  if (alerts.audio && alerts.audio.state === "suspended") alerts.audio.resume().catch(() => {});
}

export function alertsLabel() {
  if (!alertsWanted()) return "Turn on alerts";
  return "Notification" in window && Notification.permission === "granted" ? "Alerts on" : "Sound on";
}

export async function toggleAlerts() {
  const button = document.getElementById("alerts");
  if (alertsWanted()) {
    localStorage.setItem(ALERTS_KEY, "off");
    alerts.audio = null;
    toast("Alerts are off.");
  } else {
    localStorage.setItem(ALERTS_KEY, "on");
    armSound();
    if ("Notification" in window && Notification.permission === "default") await Notification.requestPermission();
    const granted = "Notification" in window && Notification.permission === "granted";
    toast(granted ? "You will hear and see new waiting chats." : "You will hear new waiting chats.");
  }
  if (button) {
    button.textContent = alertsLabel();
    button.setAttribute("aria-pressed", String(alertsWanted()));
  }
}

export function restoreAlerts() {
  if (!alertsWanted()) return;
  const arm = () => {
    armSound();
    document.removeEventListener("pointerdown", arm, true);
    document.removeEventListener("keydown", arm, true);
  };
  document.addEventListener("pointerdown", arm, true);
  document.addEventListener("keydown", arm, true);
}

export function notify(title, body) {
  if (alerts.audio && alertsWanted()) {
    const osc = alerts.audio.createOscillator(), gain = alerts.audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, alerts.audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, alerts.audio.currentTime + 0.4);
    osc.connect(gain).connect(alerts.audio.destination);
    osc.start();
    osc.stop(alerts.audio.currentTime + 0.4);
  }
  if (alertsWanted() && "Notification" in window && Notification.permission === "granted" && document.hidden) {
    const note = new Notification(title, {body, tag: "agentchat-waiting"});
    note.onclick = () => { window.focus(); note.close(); };
  }
}

