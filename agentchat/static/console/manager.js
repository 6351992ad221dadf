// The manager's pages: dashboard, agents, departments, tags, canned responses, working hours, reports, settings.
import {get, post, del, download} from "./api.js";
import {el, clear, toast, attempt, duration, form, dialog, table, STATUSES, ROLES} from "./ui.js";
import {BoardView} from "./board.js";
import {WebhooksView} from "./webhooks.js";
import {AuditView} from "./audit.js";

function page(main, title, ...actions) {
  const body = el("div");
  main.append(el("div", {class: "page"}, el("div", {class: "page-head"}, el("h1", {}, title), el("div", {class: "actions"}, actions)), body));
  return body;
}

const yesNo = (value) => (value ? "Yes" : "No");
const isoDay = (date) => date.toISOString().slice(0, 10);

// ---- dashboard -------------------------------------------------------------------------------------------
function dashboard(main, store) {
  const body = page(main, "Dashboard");
  const live = el("section", {"aria-labelledby": "live-title"}, el("h2", {id: "live-title"}, "Now"));
  const tiles = el("div", {class: "tiles", "aria-live": "polite"});
  const days = el("select", {"aria-label": "Period", onchange: () => loadRange()},
    [[7, "Last 7 days"], [14, "Last 14 days"], [30, "Last 30 days"]].map(([v, l]) => el("option", {value: v}, l)));
  const range = el("section", {class: "panel", "aria-labelledby": "range-title"});
  body.append(live, tiles, el("div", {class: "page-head"}, el("h2", {id: "range-title"}, "Chats over time"), days), range);
  // Each tile opens the chats (or agents) it counts.
  const tile = (label, value, href) => el(href ? "a" : "div", {class: "tile", href},
    el("span", {class: "value"}, value), el("span", {class: "label"}, label));
  async function loadLive() {
    const m = await get("GetLiveMetrics").catch(() => null);
    if (!m) return;
    clear(tiles, tile("Waiting", m.ChatsWaiting, "#/inbox?tab=waiting"),
      tile("Longest wait", duration(m.LongestWaitSeconds), "#/inbox?tab=waiting"),
      tile("In progress", m.ChatsInProgress, "#/inbox?tab=all&agent=some&department="), tile("Closed today", m.ChatsClosedToday, "#/history"),
      tile("Agents online", m.AgentsByStatus.Online, "#/board"),
      tile("Busy / on break", `${m.AgentsByStatus.Busy} / ${m.AgentsByStatus.OnBreak}`, "#/board"),
      tile("Average wait today", duration(m.AverageWaitSecondsToday)),
      tile("Average first response", duration(m.AverageFirstResponseSecondsToday)));
  }
  async function loadRange() {
    const to = new Date(), from = new Date(Date.now() - (Number(days.value) - 1) * 86400000);
    const d = await attempt(() => get("GetDashboard", {From: isoDay(from), To: isoDay(to)}));
    if (!d) return;
    const dept = (id) => (store.department(id) || {}).Name || (id ? `Department ${id}` : "No department");
    const m = d.Metrics;
    clear(range, barChart(d.PerDay),
      el("p", {class: "csat-summary"}, m.CsatRatings
        ? `Customer satisfaction: ${m.CsatAverage.toFixed(1)} out of 5 from ${m.CsatRatings} ratings; ` +
          `${percent(m.CsatSatisfied)} rated 4 or 5.`
        : "Customer satisfaction: no ratings in this period."),
      el("h3", {}, "Per department"),
      table("Per department", [
        {label: "Department", value: (r) => r.Name || dept(r.DepartmentID)}, {label: "Chats", value: (r) => r.Chats},
        {label: "Closed", value: (r) => r.ClosedChats}, {label: "Missed", value: (r) => r.MissedChats},
        {label: "Average wait", value: (r) => duration(r.AverageWaitSeconds)},
        {label: "Average first response", value: (r) => duration(r.AverageFirstResponseSeconds)},
        {label: "CSAT", value: csat}], d.PerDepartment,
      "No chats in this period."),
      el("h3", {}, "Per agent"),
      table("Per agent", [
        {label: "Agent", value: (r) => r.Name || `Agent ${r.AgentID}`}, {label: "Chats", value: (r) => r.Chats},
        {label: "Messages sent", value: (r) => r.AgentMessages},
        {label: "Average first response", value: (r) => duration(r.AverageFirstResponseSeconds)},
        {label: "Handling time", value: (r) => duration(r.HandleSeconds)},
        {label: "Occupancy", value: (r) => percent(r.Occupancy)},
        {label: "Occupancy in working hours", value: (r) => percent(r.OccupancyWithinHours)},
        {label: "CSAT", value: csat}], d.PerAgent,
      "No agent handled a chat."),
      d.PerTag.length ? [el("h3", {}, "Per tag"), table("Per tag", [{label: "Tag", value: (r) => r.Name},
        {label: "Chats", value: (r) => r.Chats}, {label: "CSAT", value: csat}], d.PerTag)] : null);
  }
  let pending = null;
  const off = store.on((event) => {
    if (!event.Type.startsWith("Chat") && event.Type !== "AgentStatusChanged") return;
    clearTimeout(pending);
    pending = setTimeout(loadLive, 500);
  });
  const timer = setInterval(loadLive, 15000);
  loadLive();
  loadRange();
  return {destroy() { off(); clearInterval(timer); clearTimeout(pending); }};
}

// A group's customer satisfaction: the average rating (1-5) and how many ratings it is from.
function csat(row) {
  return row.CsatRatings ? `${row.CsatAverage.toFixed(1)} / 5 (${row.CsatRatings})` : "–";
}

// A fraction 0..1 as a whole percentage; a dash when there is none (no Online time).
function percent(fraction) {
  return fraction === null || fraction === undefined ? "–" : `${Math.round(fraction * 100)} %`;
}

// Chats and closed chats per day as an SVG bar chart, with a table fallback for screen readers.
function barChart(perDay) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const width = 640, height = 200, pad = 24;
  const max = Math.max(1, ...perDay.map((d) => d.Chats));
  const step = (width - pad) / perDay.length;
  const chart = svg("svg", {viewBox: `0 0 ${width} ${height + 30}`, class: "chart", role: "img",
    "aria-label": `Chats per day, most ${max}`});
  perDay.forEach((day, i) => {
    const h = (day.Chats / max) * height, h2 = (day.ClosedChats / max) * height;
    const x = pad + i * step;
    chart.append(svg("rect", {x, y: height - h, width: step * 0.4, height: h, class: "bar"}),
      svg("rect", {x: x + step * 0.42, y: height - h2, width: step * 0.4, height: h2, class: "bar2"}));
    if (perDay.length <= 14 || i % 3 === 0) chart.append(svg("text", {x, y: height + 14}, day.Date.slice(5)));
    if (day.Chats) chart.append(svg("text", {x, y: height - h - 3}, String(day.Chats)));
  });
  chart.append(svg("text", {x: 0, y: 12}, String(max)), svg("text", {x: 0, y: height}, "0"));
  return el("figure", {}, chart,
    el("figcaption", {class: "legend"}, el("span", {}, el("span", {class: "swatch chats"}), "Chats"),
      el("span", {}, el("span", {class: "swatch closed"}), "Closed")));
}

// ---- agents ----------------------------------------------------------------------------------------------
function agents(main, store) {
  const body = page(main, "Agents", el("button", {type: "button", class: "primary", onclick: () => edit(null)}, "New agent"));
  const specs = (agent) => [
    {name: "Name", label: "Name", required: true, value: agent && agent.Name, maxlength: 100},
    {name: "EmailAddress", label: "E-mail address", type: "email", required: true, value: agent && agent.EmailAddress},
    {name: "MobileNumber", label: "Mobile number", type: "tel", value: agent && agent.MobileNumber, maxlength: 20},
    {name: "RoleID", label: "Role", type: "select", numeric: true, options: [[1, "Agent"], [2, "Manager"]], value: agent ? agent.RoleID : 1},
    {name: "DepartmentIDs", label: "Departments", type: "checkboxes", value: agent ? agent.DepartmentIDs : [],
      options: store.departments.map((d) => [d.DepartmentID, d.Name])},
    ...(agent ? [
      {name: "Enabled", label: "Enabled (may log on)", type: "checkbox", value: agent.Enabled},
      {name: "Notify", label: "E-mail me when chats wait too long", type: "checkbox",
        value: agent.Notifications.includes("UnassignedChatsWaiting")},
      {name: "MaxConcurrentChats", label: "Most chats assigned automatically at once", type: "number", min: 1, max: 50,
        value: agent.MaxConcurrentChats},
      {name: "WhatsAppLimit", label: "Of which WhatsApp at most", type: "number", min: 0, max: 50,
        value: (agent.MaxChatsPerChannel || {}).WhatsApp, hint: "Empty: no limit of its own."},
      {name: "WebChatLimit", label: "Of which web chat at most", type: "number", min: 0, max: 50,
        value: (agent.MaxChatsPerChannel || {}).WebChat, hint: "Empty: no limit of its own."}] : []),
  ];
  function edit(agent) {
    const box = dialog(agent ? `Edit ${agent.Name}` : "New agent", form(specs(agent), {
      submit: agent ? "Save" : "Create agent",
      onSubmit: async (v) => {
        const payload = {Name: v.Name, EmailAddress: v.EmailAddress, RoleID: v.RoleID, DepartmentIDs: v.DepartmentIDs};
        if (v.MobileNumber) payload.MobileNumber = v.MobileNumber;
        if (agent) {
          const perChannel = {};
          if (v.WhatsAppLimit !== null) perChannel.WhatsApp = v.WhatsAppLimit;
          if (v.WebChatLimit !== null) perChannel.WebChat = v.WebChatLimit;
          Object.assign(payload, {AgentID: agent.AgentID, Enabled: v.Enabled,
            Notifications: v.Notify ? ["UnassignedChatsWaiting"] : [], MaxChatsPerChannel: perChannel});
          if (v.MaxConcurrentChats !== null) payload.MaxConcurrentChats = v.MaxConcurrentChats;
          await post("UpdateAgent", payload);
          toast(`${payload.Name} saved.`);
        } else {
          await post("CreateAgent", payload);
          toast("Agent created; they were e-mailed a link to choose a password.");
        }
        box.close();
        await load();
      },
    }));
  }
  async function toggle(agent) {
    await attempt(() => post("UpdateAgent", {AgentID: agent.AgentID, Enabled: !agent.Enabled}),
      {success: agent.Enabled ? `${agent.Name} disabled.` : `${agent.Name} enabled.`});
    await load();
  }
  async function load() {
    await attempt(() => store.loadAgents());
    const rows = [...store.agents.values()];
    const names = (ids) => ids.map((id) => (store.department(id) || {}).Name || id).join(", ");
    clear(body, table("Agents", [
      {label: "Name", value: (a) => a.Name}, {label: "E-mail", value: (a) => a.EmailAddress},
      {label: "Role", value: (a) => ROLES[a.RoleID]}, {label: "Status", value: (a) => STATUSES[a.StatusID]},
      {label: "Departments", value: (a) => names(a.DepartmentIDs)}, {label: "Enabled", value: (a) => yesNo(a.Enabled)},
      {label: "Actions", value: (a) => el("div", {class: "actions"},
        el("button", {type: "button", onclick: () => edit(a), "aria-label": `Edit ${a.Name}`}, "Edit"),
        a.AgentID === store.me.AgentID ? null : el("button", {type: "button", onclick: () => toggle(a),
          "aria-label": `${a.Enabled ? "Disable" : "Enable"} ${a.Name}`}, a.Enabled ? "Disable" : "Enable"))},
    ], rows));
  }
  load();
}

// ---- departments -----------------------------------------------------------------------------------------
function departments(main, store) {
  const body = page(main, "Departments",
    el("button", {type: "button", class: "primary", onclick: () => edit(null)}, "New department"));
  const specs = (d) => [
    {name: "Name", label: "Name", required: true, value: d && d.Name, maxlength: 100},
    {name: "IncludeInWelcomeMenu", label: "In the bot's welcome menu", type: "checkbox", value: d ? d.IncludeInWelcomeMenu : true},
    {name: "WelcomeMenuName", label: "Menu title", value: d && d.WelcomeMenuName, maxlength: 100,
      hint: "What customers see in the menu (the name if empty). WhatsApp shows 24 characters."},
    {name: "MenuOption", label: "Menu number", type: "number", min: 1, max: 99, value: d && d.MenuOption},
    {name: "NewCustomerMessage", label: "Message to new customers", type: "textarea", value: d && d.NewCustomerMessage},
    {name: "ReturningCustomerMessage", label: "Message to returning customers", type: "textarea",
      value: d && d.ReturningCustomerMessage},
    {name: "Enabled", label: "Enabled", type: "checkbox", value: d ? d.Enabled : true},
    {name: "RoutingEnabled", label: "Assign queued chats automatically", type: "checkbox", value: d ? d.RoutingEnabled : false},
    {name: "RoutingStrategy", label: "Automatic assignment picks", type: "select", value: d ? d.RoutingStrategy : "LeastBusy",
      options: [["LeastBusy", "The least busy agent"], ["RoundRobin", "Agents in turn (round robin)"]],
      hint: "Only Online agents get chats; agents on a break are skipped."},
    {name: "CsatEnabled", label: "Ask customers to rate closed chats (CSAT)", type: "checkbox",
      value: d ? d.CsatEnabled : false, hint: "After an agent closes a chat, the customer is asked for a rating from 1 to 5."},
  ];
  function edit(d) {
    const box = dialog(d ? `Edit ${d.Name}` : "New department", form(specs(d), {
      submit: d ? "Save" : "Create department",
      onSubmit: async (v) => {
        for (const key of ["WelcomeMenuName", "NewCustomerMessage", "ReturningCustomerMessage", "MenuOption"]) {
          if (v[key] === null && !d) delete v[key];
        }
        if (d) await post("UpdateDepartment", {DepartmentID: d.DepartmentID, ...v});
        else await post("CreateDepartment", v);
        box.close();
        toast(d ? "Department saved." : "Department created.");
        await load();
      },
    }));
  }
  async function load() {
    await attempt(() => Promise.all([store.loadDepartments(), store.loadSettings()]));
    const menu = store.departments.filter((d) => d.Enabled && d.IncludeInWelcomeMenu)
      .sort((a, b) => (a.MenuOption || 0) - (b.MenuOption || 0));
    const greeting = store.settings.WelcomeMessageNewCustomer || "";
    clear(body,
      table("Departments", [
        {label: "Name", value: (d) => d.Name}, {label: "Menu", value: (d) => d.IncludeInWelcomeMenu
          ? `${d.MenuOption || "?"}. ${d.WelcomeMenuName || d.Name}` : "Not in menu"},
        {label: "Enabled", value: (d) => yesNo(d.Enabled)},
        {label: "Actions", value: (d) => el("button", {type: "button", onclick: () => edit(d), "aria-label": `Edit ${d.Name}`}, "Edit")},
      ], store.departments, "No departments yet: create one for the bot's menu."),
      el("section", {class: "panel", "aria-labelledby": "preview-title"},
        el("h2", {id: "preview-title"}, "Welcome menu preview"),
        el("p", {class: "muted"}, "What a new customer receives from the bot:"),
        el("div", {class: "menu-preview", id: "menu-preview"},
          [greeting, "", ...menu.map((d) => `${d.MenuOption}. ${d.WelcomeMenuName || d.Name}`)].join("\n"))));
  }
  load();
}

// ---- tags ------------------------------------------------------------------------------------------------
function tags(main) {
  const body = page(main, "Tags", el("button", {type: "button", class: "primary", onclick: () => editGroup(null)}, "New tag group"));
  function editGroup(group) {
    const box = dialog(group ? `Edit ${group.Name}` : "New tag group", form([
      {name: "Name", label: "Name", required: true, value: group && group.Name, maxlength: 100},
      {name: "Enabled", label: "Enabled", type: "checkbox", value: group ? group.Enabled : true}], {
      onSubmit: async (v) => {
        if (group) await post("UpdateTagGroup", {TagGroupID: group.TagGroupID, ...v}); else await post("CreateTagGroup", v);
        box.close();
        toast(group ? "Tag group saved." : "Tag group created.");
        await load();
      }}));
  }
  function editTag(group, tag) {
    const box = dialog(tag ? `Edit ${tag.Name}` : `New tag in ${group.Name}`, form([
      {name: "Name", label: "Name", required: true, value: tag && tag.Name, maxlength: 100},
      {name: "Enabled", label: "Enabled", type: "checkbox", value: tag ? tag.Enabled : true}], {
      onSubmit: async (v) => {
        if (tag) await post("UpdateTag", {TagID: tag.TagID, ...v}); else await post("CreateTag", {TagGroupID: group.TagGroupID, ...v});
        box.close();
        toast(tag ? "Tag saved." : "Tag created.");
        await load();
      }}));
  }
  async function remove(tag) {
    if (!window.confirm(`Delete the tag ${tag.Name}?`)) return;
    await attempt(() => del("DeleteTag", {TagID: tag.TagID}), {success: "Tag deleted."});
    await load();
  }
  async function load() {
    const data = await attempt(() => get("GetTags"));
    if (!data) return;
    clear(body, data.Items.length ? el("div", {class: "columns"}, data.Items.map((group) =>
      el("section", {class: "panel", "aria-label": group.Name},
        el("div", {class: "page-head"}, el("h2", {}, group.Name, group.Enabled ? "" : " (disabled)"),
          el("div", {class: "actions"},
            el("button", {type: "button", onclick: () => editGroup(group), "aria-label": `Edit group ${group.Name}`}, "Edit"),
            el("button", {type: "button", onclick: () => editTag(group, null), "aria-label": `New tag in ${group.Name}`}, "New tag"))),
        table(group.Name, [{label: "Tag", value: (t) => t.Name}, {label: "Enabled", value: (t) => yesNo(t.Enabled)},
          {label: "Actions", value: (t) => el("div", {class: "actions"},
            el("button", {type: "button", onclick: () => editTag(group, t), "aria-label": `Edit ${t.Name}`}, "Edit"),
            el("button", {type: "button", class: "danger", onclick: () => remove(t), "aria-label": `Delete ${t.Name}`}, "Delete"))}],
        group.Tags, "No tags in this group.")))) : el("p", {class: "empty"}, "No tag groups yet."));
  }
  load();
}

// ---- canned responses ------------------------------------------------------------------------------------
function canned(main) {
  const body = page(main, "Canned responses",
    el("button", {type: "button", class: "primary", onclick: () => edit(null)}, "New canned response"));
  function edit(c) {
    const box = dialog(c ? `Edit ${c.Name}` : "New canned response", form([
      {name: "Name", label: "Name", required: true, value: c && c.Name, maxlength: 100},
      {name: "ShortCode", label: "Short code", value: c && c.ShortCode, maxlength: 32,
        hint: "Agents type / and the code; letters, digits, - and _."},
      {name: "Text", label: "Text", type: "textarea", rows: 5, required: true, value: c && c.Text,
        hint: "May use {CustomerName}, {AgentName}, {DepartmentName}, {CompanyName}."}], {
      onSubmit: async (v) => {
        const payload = {...v, ShortCode: v.ShortCode || ""};
        if (c) await post("UpdateCannedResponse", {CannedResponseID: c.CannedResponseID, ...payload});
        else await post("CreateCannedResponse", payload);
        box.close();
        toast(c ? "Canned response saved." : "Canned response created.");
        await load();
      }}));
  }
  async function remove(c) {
    if (!window.confirm(`Delete ${c.Name}?`)) return;
    await attempt(() => del("DeleteCannedResponse", {CannedResponseID: c.CannedResponseID}), {success: "Deleted."});
    await load();
  }
  async function load() {
    const data = await attempt(() => get("GetCannedResponses"));
    if (!data) return;
    clear(body, table("Canned responses", [
      {label: "Name", value: (c) => c.Name}, {label: "Short code", value: (c) => (c.ShortCode ? "/" + c.ShortCode : "")},
      {label: "Text", value: (c) => el("span", {class: "pre"}, c.Text)},
      {label: "Actions", value: (c) => el("div", {class: "actions"},
        el("button", {type: "button", onclick: () => edit(c), "aria-label": `Edit ${c.Name}`}, "Edit"),
        el("button", {type: "button", class: "danger", onclick: () => remove(c), "aria-label": `Delete ${c.Name}`}, "Delete"))},
    ], data.Items));
  }
  load();
}

// ---- working hours ---------------------------------------------------------------------------------------
const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const showIntervals = (intervals) => intervals.map((i) => `${i.Start}-${i.End}`).join(", ");
function parseIntervals(text, where) {
  if (!text.trim()) return [];
  return text.split(",").map((part) => {
    const match = /^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$/.exec(part);
    if (!match) throw new Error(`${where}: write times like 09:00-17:00, separated by commas.`);
    const pad = (t) => t.padStart(5, "0");
    return {Start: pad(match[1]), End: pad(match[2])};
  });
}

function workingHours(main, store) {
  const body = page(main, "Working hours");
  const whose = el("select", {id: "hours-whose", onchange: () => load()},
    el("option", {value: ""}, "Company hours"),
    store.departments.map((d) => el("option", {value: d.DepartmentID}, d.Name)));
  const holder = el("div");
  body.append(el("div", {class: "field"}, el("label", {for: "hours-whose"}, "Hours of"), whose), holder);
  async function load() {
    const departmentId = whose.value ? Number(whose.value) : null;
    const hours = await attempt(() => get("GetWorkingHours", {DepartmentID: departmentId}));
    if (!hours) return;
    const own = hours.DepartmentID === departmentId;
    const byDay = new Map(hours.Days.map((d) => [d.Day, d.Intervals]));
    const inputs = DAYS.map((name, i) => el("input", {id: `day-${i + 1}`, value: showIntervals(byDay.get(i + 1) || []),
      placeholder: "closed", "aria-describedby": "hours-hint"}));
    const holidays = el("textarea", {id: "holidays", rows: 4, "aria-describedby": "holidays-hint"});
    holidays.value = hours.Holidays.map((h) => `${h.Date} ${showIntervals(h.Intervals)}`.trim()).join("\n");
    // The time zone is chosen in one place, Settings; the hours keep the one they have.
    const zone = {value: hours.TimeZone};
    const formNode = el("form", {class: "panel stack"},
      el("p", {class: own ? "muted" : "notice"}, own ? (hours.OpenNow ? "Open now." : "Closed now.")
        : "This department has no hours of its own: it follows the company's. Saving gives it its own."),
      el("p", {class: "muted"}, `Times are in ${hours.TimeZone}. The time zone is chosen in `,
        el("a", {href: "#/settings"}, "Settings"), "."),
      el("small", {id: "hours-hint"}, "Each day: intervals like 08:00-12:00, 13:00-17:00. Empty means closed."),
      el("table", {class: "hours-grid"}, el("caption", {class: "visually-hidden"}, "Weekly hours"),
        el("tbody", {}, DAYS.map((name, i) => el("tr", {}, el("th", {scope: "row"}, el("label", {for: `day-${i + 1}`}, name)),
          el("td", {}, inputs[i]))))),
      el("div", {class: "field"}, el("label", {for: "holidays"}, "Holidays and special days"), holidays,
        el("small", {id: "holidays-hint"}, "One a line: 2025-12-25 (closed) or 2025-12-24 08:00-12:00.")),
      el("div", {class: "actions"}, el("button", {type: "submit", class: "primary"}, "Save hours"),
        departmentId && own ? el("button", {type: "button", onclick: async () => {
          await attempt(() => del("DeleteWorkingHours", {DepartmentID: departmentId}), {success: "The department follows the company's hours."});
          await load();
        }}, "Use the company's hours") : null));
    formNode.addEventListener("submit", async (event) => {
      event.preventDefault();
      await attempt(async () => {
        const days = DAYS.map((name, i) => ({Day: i + 1, Intervals: parseIntervals(inputs[i].value, name)}));
        const dates = holidays.value.split("\n").filter((l) => l.trim()).map((line) => {
          const [date, ...rest] = line.trim().split(/\s+/);
          return {Date: date, Intervals: parseIntervals(rest.join(" "), date)};
        });
        await post("UpdateWorkingHours", {DepartmentID: departmentId, TimeZone: zone.value.trim() || null, Days: days, Holidays: dates});
      }, {success: "Working hours saved."});
      await load();
    });
    clear(holder, formNode);
  }
  load();
}

// ---- reports: recipients and schedules -------------------------------------------------------------------
function reports(main) {
  const body = page(main, "Reports",
    el("button", {type: "button", class: "primary", onclick: () => newRecipient()}, "New recipient"));
  let catalogue = [];
  function newRecipient() {
    const box = dialog("New recipient", form([
      {name: "Name", label: "Name", required: true, maxlength: 100},
      {name: "EmailAddress", label: "E-mail address", type: "email", required: true}], {
      onSubmit: async (v) => { await post("CreateRecipient", v); box.close(); toast("Recipient added."); await load(); }}));
  }
  function newSchedule(recipient) {
    const box = dialog(`Schedule a report for ${recipient.Name}`, form([
      {name: "ReportID", label: "Report", type: "select", options: catalogue.map((r) => [r.ReportID, r.Name])},
      {name: "FileFormat", label: "File format", type: "select", options: [["CSV", "CSV"], ["XLSX", "Excel"], ["PDF", "PDF"]]},
      {name: "Period", label: "Covering", type: "select", options: [["Day", "The previous day"], ["Week", "The previous week"], ["Month", "The previous month"]]},
      {name: "ScheduledDays", label: "Send on", type: "checkboxes", value: [1], options: DAYS.map((d, i) => [i + 1, d])},
      {name: "ScheduledTime", label: "At", type: "time", value: "07:00", required: true}], {
      onSubmit: async (v) => {
        await post("CreateScheduledReport", {RecipientID: recipient.RecipientID, DeliveryMethod: "Email", ...v});
        box.close();
        toast("Report scheduled.");
        await load();
      }}));
  }
  async function act(call, query, success) {
    await attempt(() => (call === "SendScheduledReportNow" ? post(call, query) : del(call, query)), {success});
    await load();
  }
  async function load() {
    const [recipients, list] = await Promise.all([attempt(() => get("GetRecipients")), attempt(() => get("GetReports"))]);
    if (!recipients || !list) return;
    catalogue = list.Items;
    const reportName = (id) => (catalogue.find((r) => r.ReportID === id) || {}).Name || id;
    const from = el("input", {type: "date", id: "report-from", value: isoDay(new Date(Date.now() - 6 * 86400000))});
    const to = el("input", {type: "date", id: "report-to", value: isoDay(new Date())});
    const which = el("select", {id: "report-id"}, catalogue.map((r) => el("option", {value: r.ReportID}, r.Name)));
    // The plain CSV is for people (labels, h:mm:ss beside the seconds); the machine CSV stays one choice away.
    const format = el("select", {id: "report-format"}, [["CSV", "CSV"], ["XLSX", "XLSX"], ["PDF", "PDF"],
      ["RawCSV", "CSV for machines (keys, seconds, UTC)"]].map(([value, label]) => el("option", {value}, label)));
    const reportUrl = () => {
      const file = format.value === "RawCSV" ? "CSV" : format.value;
      return `/api/GetReport?ReportID=${encodeURIComponent(which.value)}&From=${from.value}&To=${to.value}&FileFormat=${file}`
        + (format.value === "CSV" ? "&Readable=true" : "");
    };
    clear(body,
      el("section", {class: "panel", "aria-labelledby": "dl-title"}, el("h2", {id: "dl-title"}, "Download a report"),
        el("div", {class: "actions"},
          el("div", {class: "field"}, el("label", {for: "report-id"}, "Report"), which),
          el("div", {class: "field"}, el("label", {for: "report-from"}, "From"), from),
          el("div", {class: "field"}, el("label", {for: "report-to"}, "To"), to),
          el("div", {class: "field"}, el("label", {for: "report-format"}, "Format"), format)),
        el("p", {}, el("button", {type: "button", onclick: () => attempt(() => download(reportUrl(), "report"))},
          "Download"))),
      recipients.Items.length ? recipients.Items.map((r) => el("section", {class: "panel", "aria-label": r.Name},
        el("div", {class: "page-head"}, el("h2", {}, `${r.Name} <${r.EmailAddress}>`),
          el("div", {class: "actions"},
            el("button", {type: "button", onclick: () => newSchedule(r)}, "Add schedule"),
            el("button", {type: "button", class: "danger", onclick: () => window.confirm(`Delete ${r.Name} and their schedules?`)
              && act("DeleteRecipient", {RecipientID: r.RecipientID}, "Recipient deleted.")}, "Delete"))),
        table(`Schedules of ${r.Name}`, [
          {label: "Report", value: (s) => reportName(s.ReportID)}, {label: "Format", value: (s) => s.FileFormat},
          {label: "Period", value: (s) => s.Period},
          {label: "When", value: (s) => `${s.ScheduledDays.map((d) => DAYS[d - 1].slice(0, 3)).join(", ")} at ${s.ScheduledTime}`},
          {label: "Actions", value: (s) => el("div", {class: "actions"},
            el("button", {type: "button", onclick: () => act("SendScheduledReportNow", {ScheduleID: s.ScheduleID}, "Report sent.")}, "Send now"),
            el("button", {type: "button", class: "danger", onclick: () => act("DeleteScheduledReport", {ScheduleID: s.ScheduleID}, "Schedule deleted.")}, "Delete"))},
        ], r.Schedules, "No schedules."))) : el("p", {class: "empty"}, "No recipients yet."));
  }
  load();
}

// ---- settings --------------------------------------------------------------------------------------------
const SETTING_LABELS = {
  CsatQuestion: "Rating question after a chat (CSAT)", CsatAnswerHours: "Hours a rating may still be given",
  CompanyName: "Company name", TimeZone: "Time zone (e.g. Africa/Johannesburg)",
  WelcomeMessageNewCustomer: "Greeting to new customers", WelcomeMessageReturningCustomer: "Greeting to returning customers",
  OutOfHoursMessage: "Out-of-hours message", QueueOutOfHours: "Queue chats that arrive out of hours", QueuedMessage: "Queued message ({Position} is the place in the queue)",
  InvalidOptionMessage: "Invalid menu option message", ChatClosedMessage: "Chat closed message",
  SendChatClosedMessage: "Send the chat closed message", UnassignedChatsWaitingMinutes: "Alert when a chat waits (minutes)",
  WebChatColour: "Web chat colour (#rrggbb)",
  AuditLogRetentionDays: "Keep the audit log for (days)",
};

function settings(main, store) {
  const body = page(main, "Settings");
  async function load() {
    await attempt(() => store.loadSettings());
    const current = store.settings;
    const specs = Object.keys(current).map((key) => {
      const value = current[key];
      const type = typeof value === "boolean" ? "checkbox" : typeof value === "number" ? "number"
        : String(value || "").length > 60 || /Message/.test(key) ? "textarea" : "text";
      if (key === "TimeZone") return {name: key, label: "Time zone", type: "select", value, options: timeZones(value)};
      if (key === "WebChatColour") return {name: key, label: SETTING_LABELS[key], type: "color", value};
      return {name: key, label: SETTING_LABELS[key] || key, type, value, maxlength: 4096, min: type === "number" ? 0 : undefined};
    });
    clear(body, el("div", {class: "panel"}, form(specs, {submit: "Save settings", onSubmit: async (v) => {
      const changed = Object.entries(v).filter(([key, value]) => value !== current[key] && !(value === null && current[key] === ""))
        .map(([key, value]) => ({[key]: value === null ? "" : value}));
      if (!changed.length) { toast("Nothing changed."); return; }
      await post("UpdateSettings", {Settings: changed});
      toast("Settings saved.");
      await load();
    }})));
  }
  load();
}

// The IANA zones the browser knows, the current one included even if it does not.
function timeZones(current) {
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set([current, "UTC", ...zones].filter(Boolean))].map((zone) => [zone, zone.replaceAll("_", " ")]);
}

const simple = (fn) => (main, store) => { fn(main, store); return {}; };

export const MANAGER_VIEWS = [
  {id: "dashboard", label: "Dashboard", create: dashboard},
  {id: "board", label: "Live board", create: (main, store) => new BoardView(main, store)},
  {id: "agents", label: "Agents", create: simple(agents), setup: true},
  {id: "departments", label: "Departments", create: simple(departments), setup: true},
  {id: "tags", label: "Tags", create: simple(tags), setup: true},
  {id: "canned", label: "Canned responses", create: simple(canned), setup: true},
  {id: "hours", label: "Working hours", create: simple(workingHours), setup: true},
  {id: "reports", label: "Reports", create: simple(reports), setup: true},
  {id: "settings", label: "Settings", create: simple(settings), setup: true},
  {id: "webhooks", label: "Webhooks", create: (main, store) => new WebhooksView(main, store), setup: true},
  {id: "audit", label: "Audit log", create: (main, store) => new AuditView(main, store), setup: true},
];
