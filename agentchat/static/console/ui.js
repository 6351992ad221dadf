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

let toastTimer;
export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const item = el("p", {class: "toast " + kind, role: kind === "error" ? "alert" : undefined}, message);
  box.append(item);
  clearTimeout(toastTimer);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

// Runs an action, shows its error (if any) and returns its result or undefined.
export async function attempt(action, {success} = {}) {
  try {
    const result = await action();
    if (success) toast(success);
    return result;
  } catch (error) {
    toast(error.message || String(error), "error");
    return undefined;
  }
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
  return el("div", {class: "field"}, el("label", {for: id}, spec.label), control,
    spec.hint && el("small", {id: hintId}, spec.hint));
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

// A form from field specs; onSubmit(values) may throw an ApiError, whose Field is then focused.
export function form(specs, {submit = "Save", onSubmit, extra = [], cancel} = {}) {
  const node = el("form", {class: "stack", novalidate: true}, specs.map(field), extra,
    el("div", {class: "actions"}, el("button", {type: "submit", class: "primary"}, submit),
      cancel && el("button", {type: "button", onclick: cancel}, "Cancel")));
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = node.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await onSubmit(values(node, specs));
    } catch (error) {
      toast(error.message || String(error), "error");
      if (error.field && node.elements[error.field]) node.elements[error.field].focus();
    } finally {
      button.disabled = false;
    }
  });
  return node;
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

// Sound and desktop notifications need a user gesture first (browsers' rule), hence this button.
const alerts = {audio: null};

export async function enableAlerts() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (Ctx && !alerts.audio) alerts.audio = new Ctx();
  if ("Notification" in window && Notification.permission === "default") await Notification.requestPermission();
  const button = document.getElementById("alerts");
  const granted = "Notification" in window && Notification.permission === "granted";
  button.textContent = granted ? "Alerts on" : "Sound on";
  toast(granted ? "You will hear and see new waiting chats." : "You will hear new waiting chats.");
}

export function notify(title, body) {
  if (alerts.audio) {
    const osc = alerts.audio.createOscillator(), gain = alerts.audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, alerts.audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, alerts.audio.currentTime + 0.4);
    osc.connect(gain).connect(alerts.audio.destination);
    osc.start();
    osc.stop(alerts.audio.currentTime + 0.4);
  }
  if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
    const note = new Notification(title, {body, tag: "agentchat-waiting"});
    note.onclick = () => { window.focus(); note.close(); };
  }
}

