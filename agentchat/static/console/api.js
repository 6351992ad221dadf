// Calls to the AgentChat API and the session they carry.
const KEY = "agentchat.console.session";

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export const session = {
  get token() { return this.data ? this.data.SessionToken : null; },
  get agent() { return this.data ? this.data.Agent : null; },
  data: JSON.parse(localStorage.getItem(KEY) || "null"),
  save(data) { this.data = data; localStorage.setItem(KEY, JSON.stringify(data)); },
  clear() { this.data = null; localStorage.removeItem(KEY); },
  onExpired: () => {},
};

function url(name, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(key, String(one));
  }
  const text = params.toString();
  return "/api/" + name + (text ? "?" + text : "");
}

// fetch with the session; an error envelope becomes an ApiError, a lost session logs the console out.
export async function request(method, name, {query, body, raw} = {}) {
  const headers = {};
  if (session.token) headers["Authorization"] = "Bearer " + session.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url(name, query), {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (_) {
    throw new ApiError(0, "network", "The service cannot be reached; check the connection.");
  }
  if (!response.ok) {
    let error = {};
    try { error = (await response.json()).Error || {}; } catch (_) { /* not JSON */ }
    if (response.status === 401 && session.token && name !== "AgentLogon") session.onExpired();
    throw new ApiError(response.status, error.Code || "error", error.Message || "Something went wrong.", error.Field);
  }
  return raw ? response : response.json();
}

export const get = (name, query) => request("GET", name, {query});
export const post = (name, body, query) => request("POST", name, {body: body || {}, query});
export const del = (name, query) => request("DELETE", name, {query});

export async function logon(email, password) {
  const data = await post("AgentLogon", {EmailAddress: email, Password: password});
  session.save(data);
  return data;
}

export async function logoff() {
  try { await get("AgentLogoff"); } finally { session.clear(); }
}

// Every item of a list call, page by page (bounded, so a huge list cannot hang the page).
export async function all(name, query = {}, maxPages = 20) {
  const items = [];
  for (let page = 1; page <= maxPages; page++) {
    const data = await get(name, {...query, Page: page, PageSize: 200});
    items.push(...data.Items);
    if (data.Items.length < 200 || items.length >= data.Total) break;
  }
  return items;
}

// Downloads a file the API serves (GetFile, ExportChat, GetReport) with the session, as the browser's download.
export async function download(path, fallbackName) {
  let response;
  try {
    response = await fetch(path, {headers: {"Authorization": "Bearer " + session.token}});
  } catch (_) {
    throw new ApiError(0, "network", "The service cannot be reached; check the connection.");
  }
  if (!response.ok) throw new ApiError(response.status, "download", "The file could not be downloaded.");
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="?([^";]+)"?/i.exec(disposition);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = match ? match[1] : fallbackName || "download";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

export function fileToBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(new ApiError(0, "file", "The file could not be read."));
    reader.readAsDataURL(file);
  });
}
