// Setup > Webhooks (managers): the URLs that receive events, their secrets, a test, and each one's delivery log.
import {get, post, del} from "./api.js";
import {el, clear, toast, attempt, form, dialog, table, pager, time} from "./ui.js";

const EVENT_LABELS = {
  ChatCreated: "Chat created", ChatQueued: "Chat queued", ChatGrabbed: "Chat taken by an agent",
  ChatAssigned: "Chat assigned", ChatTransferred: "Chat transferred", ChatClosed: "Chat closed",
  MessageReceived: "Message from a customer", MessageSent: "Message to a customer", CustomerUpdated: "Customer updated",
  CsatReceived: "Satisfaction rating received", SlaBreached: "Service level breached",
};

export class WebhooksView {
  constructor(main, store) {
    this.events = [];
    this.body = el("div");
    main.append(el("div", {class: "page"}, el("div", {class: "page-head"}, el("h1", {}, "Webhooks"),
      el("div", {class: "actions"}, el("button", {type: "button", class: "primary", onclick: () => this.edit(null)},
        "New webhook"))),
    el("p", {class: "muted"}, "AgentChat POSTs each chosen event to your URL as JSON, signed with the webhook's ",
      "secret (header X-AgentChat-Signature: t=<unix time>,v1=<HMAC-SHA256 of \"t.body\">). A failed delivery is ",
      "retried with growing pauses; a webhook that keeps failing is paused and the managers are told."),
    this.body, this.log = el("section", {"aria-live": "polite"})));
    this.unsubscribe = store.on((event) => this.heard(event));
    this.load();
  }

  destroy() { this.unsubscribe(); }

  heard(event) {
    if (event.Type === "WebhookPaused") {
      toast(`Webhook ${event.Data.URL} was paused after ${event.Data.ConsecutiveFailures} failed attempts.`, "error");
    }
    if (["WebhookUpdated", "WebhookDeleted", "WebhookPaused", "Resync"].includes(event.Type)) this.load();
  }

  async load() {
    const data = await attempt(() => get("GetWebhooks"));
    if (!data) return;
    this.events = data.Events;
    clear(this.body, table("Webhooks", [
      {label: "URL", value: (w) => el("span", {class: "pre"}, w.URL)},
      {label: "Description", value: (w) => w.Description},
      {label: "Events", value: (w) => w.Events.map((e) => EVENT_LABELS[e] || e).join(", ")},
      {label: "Status", value: (w) => el("span", {class: `badge webhook-${w.Status.toLowerCase()}`}, w.Status,
        w.ConsecutiveFailures ? ` (${w.ConsecutiveFailures} failures)` : "")},
      {label: "Secret", value: (w) => el("details", {}, el("summary", {}, "Show"), el("code", {}, w.Secret))},
      {label: "Actions", value: (w) => el("div", {class: "actions"},
        el("button", {type: "button", onclick: () => this.test(w), "aria-label": `Send a test to ${w.URL}`}, "Send test"),
        el("button", {type: "button", onclick: () => this.deliveries(w, 1), "aria-label": `Deliveries to ${w.URL}`},
          "Deliveries"),
        el("button", {type: "button", onclick: () => this.edit(w), "aria-label": `Edit ${w.URL}`}, "Edit"),
        w.Status === "Active"
          ? el("button", {type: "button", onclick: () => this.setStatus(w, "Disabled")}, "Disable")
          : el("button", {type: "button", onclick: () => this.setStatus(w, "Active")}, "Resume"),
        el("button", {type: "button", onclick: () => this.rotate(w)}, "New secret"),
        el("button", {type: "button", class: "danger", onclick: () => this.remove(w), "aria-label": `Delete ${w.URL}`},
          "Delete"))},
    ], data.Items, "No webhooks yet: add one to send events to another system."));
  }

  edit(w) {
    const box = dialog(w ? "Edit webhook" : "New webhook", form([
      {name: "URL", label: "URL", type: "url", required: true, value: w && w.URL, maxlength: 2000,
        placeholder: "https://crm.example.com/hooks/agentchat"},
      {name: "Description", label: "Description", value: w && w.Description, maxlength: 200},
      {name: "Events", label: "Events", type: "checkboxes", numeric: false, value: w ? w.Events : [],
        options: this.events.map((e) => [e, EVENT_LABELS[e] || e])}], {
      onSubmit: async (v) => {
        const body = {URL: v.URL, Description: v.Description || "", Events: v.Events};
        const saved = w ? await post("UpdateWebhook", {WebhookID: w.WebhookID, ...body})
          : await post("CreateWebhook", body);
        box.close();
        toast(w ? "Webhook saved." : `Webhook added. Its secret: ${saved.Secret}`);
        await this.load();
      }}));
  }

  async test(w) {
    const result = await attempt(() => post("TestWebhook", {WebhookID: w.WebhookID}));
    if (!result) return;
    if (result.Status === "Delivered") toast(`Test delivered: your URL answered ${result.ResponseStatus}.`);
    else toast(`Test failed: ${result.Error}.`, "error");
    if (this.shown === w.WebhookID) await this.deliveries(w, 1);
  }

  async setStatus(w, status) {
    const done = await attempt(() => post("UpdateWebhook", {WebhookID: w.WebhookID, Status: status}),
      {success: status === "Active" ? "Webhook resumed: waiting events are being sent." : "Webhook disabled."});
    if (done) await this.load();
  }

  async rotate(w) {
    if (!window.confirm("Make a new secret? Your receiver must then check signatures with the new one.")) return;
    const done = await attempt(() => post("RotateWebhookSecret", {WebhookID: w.WebhookID}), {success: "New secret made."});
    if (done) await this.load();
  }

  async remove(w) {
    if (!window.confirm(`Delete the webhook to ${w.URL}? Its waiting deliveries are dropped.`)) return;
    const done = await attempt(() => del("DeleteWebhook", {WebhookID: w.WebhookID}), {success: "Webhook deleted."});
    if (done) { if (this.shown === w.WebhookID) clear(this.log); await this.load(); }
  }

  async deliveries(w, page, status = this.status || "") {
    this.shown = w.WebhookID;
    this.status = status;
    const params = {WebhookID: w.WebhookID, Page: page, PageSize: 20};
    if (status) params.Status = status;
    const data = await attempt(() => get("GetWebhookDeliveries", params));
    if (!data) return;
    const filter = el("select", {"aria-label": "Deliveries shown", onchange: () => this.deliveries(w, 1, filter.value)},
      [["", "All"], ["Pending", "Waiting"], ["Delivered", "Delivered"], ["Failed", "Given up"]]
        .map(([value, label]) => el("option", {value}, label)));
    filter.value = status;
    clear(this.log, el("div", {class: "page-head"}, el("h2", {}, `Deliveries to ${w.URL}`), filter),
      table("Deliveries", [
        {label: "Event", value: (d) => EVENT_LABELS[d.EventType] || d.EventType},
        {label: "Created", value: (d) => time(d.CreatedAt)},
        {label: "Status", value: (d) => d.Status},
        {label: "Attempts", value: (d) => String(d.Attempts)},
        {label: "Answer", value: (d) => d.Error || (d.ResponseStatus ? String(d.ResponseStatus) : "")},
        {label: "Next try", value: (d) => (d.NextAttemptAt ? time(d.NextAttemptAt) : "")},
        {label: "Body", value: (d) => el("details", {}, el("summary", {}, "Show"), el("code", {class: "pre"}, d.Payload))},
        {label: "Actions", value: (d) => (d.Status === "Pending" ? "" : el("button", {type: "button",
          onclick: async () => {
            if (await attempt(() => post("RedeliverWebhook", {DeliveryID: d.DeliveryID}), {success: "Sending again."})) {
              await this.deliveries(w, page);
            }
          }}, "Send again"))},
      ], data.Items, "No deliveries yet."),
      pager("Deliveries pages", data, (n) => this.deliveries(w, n)));
  }
}
