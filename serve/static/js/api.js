// The JSON API (documented in serve/api.py); every call the page makes goes through here.

export class ApiError extends Error {
  constructor(status, body) {
    super(body.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function parse(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export async function getJSON(path, params = {}, signal) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null));
  const url = query.toString() ? `${path}?${query}` : path;
  return parse(await fetch(url, { signal, headers: { accept: "application/json" } }));
}

export async function postPhoto(file, params = {}, signal) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null));
  const form = new FormData();
  form.append("image", file, file.name || "photo");
  return parse(await fetch(`/api/similar?${query}`, { method: "POST", body: form, signal }));
}

export const searchPage = (q, params, signal) => getJSON("/api/search", { q, ...params }, signal);
export const libraryPage = (params, signal) => getJSON("/api/photos", params, signal);
export const similarPage = (id, params, signal) => getJSON(`/api/similar/${id}`, params, signal);
export const photoInfo = (id, signal) => getJSON(`/api/photos/${id}`, {}, signal);
export const photoLabels = (id, signal) => getJSON(`/api/photos/${id}/labels`, {}, signal);
export const libraryStatus = (signal) => getJSON("/api/status", {}, signal);
export const folderSuggestions = (prefix, signal) => getJSON("/api/folders", { prefix }, signal);
export const rescanState = (signal) => getJSON("/api/rescan", {}, signal);
export const startRescan = async () => parse(await fetch("/api/rescan", { method: "POST" }));
