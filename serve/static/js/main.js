// The gallery page: wires the search box, filters, grid, photo view and library view to the URL state.
// With nothing searched, the grid is the whole library, newest first.

import { ApiError, folderSuggestions, libraryPage, photoInfo, postPhoto, rescanState, searchPage, similarPage } from "./api.js";
import { $, baseName, formatCount, formatDay, h, toast } from "./dom.js";
import { Grid } from "./grid.js";
import { showLibrary } from "./library.js";
import { filterParams, isBrowsing, readState, searchKey, urlOf } from "./state.js";
import { Viewer } from "./viewer.js";

const PAGE = 60;
const MAX_UPLOAD = 32 * 1024 * 1024;
const LIVE_DELAY_MS = 350;
const TYPING_PAUSE_MS = 1200;  // an unknown word still being typed is reported only after this pause
const POLL_MS = 4000;          // how often the page asks which store generation the server answers from
const EXAMPLES = ["cat", "\"golden retriever\"", "2:dog + beach - people", "coffee"];

const input = $("#q");
const filters = $("#filters");
const summary = $("#summary");
const more = $("#more");

let state = readState();
let example = null;  // a photo dropped or picked: { file, name, url, key }; never in the URL
let run = null;      // the list on screen: { key, browsing, offset, more, total, loading, abort, fresh }
let liveTimer = null;
let similarName = "";  // the name of the photo a similar-search started from, once known
let errorTimer = null; // shows an unknown-word error once the typing has paused
let heldError = null;  // that error, shown at once by Enter
let generation = null; // the store generation the results on screen come from
let returnFocus = null; // where focus goes back to when the photo view closes

const grid = new Grid($("#grid"), {
  hrefFor: (result) => urlOf({ ...state, photo: String(result.id) }),
  onOpen: (index) => openAt(index),
});
const viewer = new Viewer({
  onClose: () => closeViewer(),
  onMove: (step) => move(step),
  onSimilar: (id) => navigate({ q: "", similar: String(id) }),
  onFolder: (folder) => navigate({ in: folder }),
  onWord: (word) => navigate({ q: word, similar: "" }),
});

// ---- state and history ------------------------------------------------------------------------

function historyState() {
  return { example: example ? example.key : null, viewer: Boolean(state.photo) };
}

// Move to a new state: a new search when what decides the results changed, and a history entry.
function navigate(changes, { push = true, keepExample = false, live = false } = {}) {
  if (!keepExample) example = null;
  state = { ...state, photo: "", ...changes };
  if (viewer.isOpen && !state.photo) viewer.close();
  const url = urlOf(state);
  if (url !== location.pathname + location.search || keepExample) {
    (push ? history.pushState : history.replaceState).call(history, historyState(), "", url);
  }
  showControls();
  search({ live });
}

window.addEventListener("popstate", (event) => {
  state = readState();
  if (!(event.state && example && event.state.example === example.key)) example = null;
  showControls();
  search();
  syncViewer();
});

function showControls() {
  if (document.activeElement !== input) input.value = state.q;
  filters.elements.in.value = state.in;
  filters.elements.after.value = state.after;
  filters.elements.before.value = state.before;
  filters.elements.min.value = state.min || "0";
  showMinScore();
  filters.elements.sort.value = state.sort === "date" ? "date" : "relevance";
  showFilterCount();
  showExampleChip();
}

function showMinScore() {
  const value = Number(filters.elements.min.value);
  filters.elements["min-value"].value = value > 0 ? `${Math.round(value * 100)}%` : "matches";
}

async function showExampleChip() {
  const chip = $("#example");
  if (example) {
    chip.hidden = false;
    $("img", chip).src = example.url;
    $(".example-name", chip).textContent = example.name;
  } else if (state.similar) {
    chip.hidden = false;
    const id = state.similar;
    similarName = "";
    $("img", chip).src = `/thumb/${encodeURIComponent(id)}`;
    $(".example-name", chip).textContent = "Similar to…";
    try {
      const info = await photoInfo(id);
      if (state.similar !== id) return;
      similarName = baseName(info.shown_path);
      $(".example-name", chip).textContent = `Like ${similarName}`;
      if (run && grid.results.length) summarize(run);
    } catch {
      $(".example-name", chip).textContent = `Like photo ${id}`;
    }
  } else {
    chip.hidden = true;
  }
}

// ---- searching ------------------------------------------------------------------------------------

// live: started by typing (an unknown last word is not reported until the typing pauses);
// refresh: the same search again on a new store generation, as many results as are shown, in place.
function search({ live = false, refresh = false } = {}) {
  const key = searchKey(state, example);
  if (run && run.key === key && !refresh) return;
  run?.abort.abort();  // a superseded request is cancelled, not just ignored
  clearTimeout(errorTimer);
  heldError = null;
  const browsing = isBrowsing(state, example);
  $("#welcome").hidden = !browsing;
  filters.classList.toggle("browsing", browsing);  // no minimum score or sort for the library
  const n = refresh ? Math.min(Math.max(grid.results.length, PAGE), 200) : PAGE;
  run = { key, browsing, offset: 0, more: true, total: 0, loading: false, abort: new AbortController(), fresh: true,
          live, refresh, n };
  loadMore();
}

async function loadMore() {
  const current = run;
  if (!current || !current.more || current.loading) return;
  current.loading = true;
  more.classList.add("loading");
  const params = { ...filterParams(state, example), n: current.offset ? PAGE : current.n, offset: current.offset };
  try {
    let page;
    if (current.browsing) page = await libraryPage(params, current.abort.signal);
    else if (example) page = await postPhoto(example.file, params, current.abort.signal);
    else if (state.similar) page = await similarPage(state.similar, params, current.abort.signal);
    else page = await searchPage(state.q, params, current.abort.signal);
    if (current !== run) return;
    if (current.fresh) {
      grid.clear();
      if (!current.refresh) window.scrollTo({ top: 0 });
      current.fresh = false;
      if (current.browsing) showYears(page.years || []);
      $("#jump").hidden = !current.browsing || !(page.years || []).length;
    }
    grid.append(page.results);
    current.offset = page.offset + page.n;  // a library page comes short by photos deleted since its order was taken
    current.more = page.more;
    current.total = page.total;
    summarize(current);
    syncViewerNav();
  } catch (error) {
    if (error.name === "AbortError" || current !== run) return;
    current.more = false;
    if (current.live && stillTyping(error)) {
      heldError = () => { heldError = null; if (current === run) showError(error, current); };
      errorTimer = setTimeout(heldError, TYPING_PAUSE_MS);
    } else {
      showError(error, current);
    }
  } finally {
    current.loading = false;
    if (current === run) more.classList.remove("loading");
  }
  if (current === run && current.more && nearBottom()) loadMore();
}

function nearBottom() {
  return more.getBoundingClientRect().top < window.innerHeight + 1200;
}

new IntersectionObserver((entries) => {
  if (entries.some((entry) => entry.isIntersecting)) loadMore();
}, { rootMargin: "1200px 0px" }).observe(more);

function what() {
  if (example) return ["like ", h("strong", { text: example.name })];
  if (state.similar) return ["like ", h("strong", { text: similarName || "the photo you picked" })];
  return ["for ", h("strong", { text: state.q })];
}

function summarize(current) {
  summary.className = "summary";
  if (current.browsing) {
    summarizeLibrary(current.total);
    return;
  }
  const count = grid.results.length;
  if (!count) {
    summary.replaceChildren("No photos ", ...what(),
      state.in || state.after || state.before || Number(state.min) > 0 ? ". Loosen the filters or the minimum score." : ".");
    return;
  }
  const parts = [h("strong", { text: `${formatCount(count)}${current.more ? "+" : ""}` }),
                 ` photo${count === 1 ? "" : "s"} `, ...what()];
  const matches = grid.results.filter((result) => result.match !== false).length;
  if (matches < count) parts.push(` · ${formatCount(matches)} match${matches === 1 ? "" : "es"}, then related ones`);
  parts.push(state.sort === "date" ? " · matches newest first, among the best 1,000" : " · best first");
  summary.replaceChildren(...parts);
}

// "12,345 photos in /photos/trip, from 1 Jan 2020 to 31 Dec 2021 · newest first"
function summarizeLibrary(total) {
  const where = [];
  if (state.in) where.push(" in ", h("strong", { text: state.in }));
  if (state.in && (state.after || state.before)) where.push(",");
  if (state.after) where.push(" from ", h("strong", { text: formatDay(state.after) }));
  if (state.before) where.push(state.after ? " to " : " until ", h("strong", { text: formatDay(state.before) }));
  if (!total) {
    summary.replaceChildren(...(where.length ? ["No photos", ...where, ". Loosen the filters."] : ["No photos indexed yet."]));
    return;
  }
  summary.replaceChildren(h("strong", { text: formatCount(total) }), ` photo${total === 1 ? "" : "s"}`, ...where,
    " · newest first");
}

function showError(error, current) {
  if (current.fresh) grid.clear();
  summary.className = "summary error";
  const message = error instanceof ApiError ? error.message : "Cannot reach the server. Is `devsearch serve` still running?";
  const suggestions = error.body?.suggestions || [];
  summary.replaceChildren(suggestions.length ? message.replace(/ Did you mean:.*$/, " Did you mean") : message,
    ...suggestions.map((word) => h("button", {
      type: "button", class: "chip", text: word,
      onclick: () => navigate({ q: replaceWord(state.q, error.body.word, word) }),
    })));
}

// An unknown word that is the last one of the box while it is being typed: "giraf" on the way to "giraffe".
function stillTyping(error) {
  const word = error.body?.word;
  return Boolean(word) && document.activeElement === input && input.value.trimEnd().toLowerCase().endsWith(word.toLowerCase());
}

function replaceWord(query, word, replacement) {
  return word ? query.split(word).join(replacement) : replacement;
}

// ---- the search box, example photos, filters --------------------------------------------------------

$("#search").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(liveTimer);
  const q = input.value.trim();
  if (q !== state.q || state.similar || example) navigate({ q, similar: "" });
  else if (heldError) {
    clearTimeout(errorTimer);
    heldError();  // Enter: the word is finished, say it is unknown now
  } else if (run) {
    run.live = false;  // still on its way: its error will not be held back
  }
});

input.addEventListener("input", () => {
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => {
    const q = input.value.trim();
    const fromLibrary = isBrowsing(state, example);  // keep the library view in the history
    if (q !== state.q) navigate({ q, similar: "" }, { push: fromLibrary, live: true });
  }, LIVE_DELAY_MS);
});

$(".example-clear").addEventListener("click", () => navigate({ similar: "" }));
$("#pick").addEventListener("click", () => $("#file").click());
$("#file").addEventListener("change", (event) => {
  const [file] = event.target.files;
  event.target.value = "";
  if (file) useExample(file);
});

function useExample(file) {
  if (!file.type.startsWith("image/")) return toast(`${file.name} is not a photo`);
  if (file.size > MAX_UPLOAD) return toast(`${file.name} is over the 32 MB limit`);
  if (example) URL.revokeObjectURL(example.url);
  example = { file, name: file.name || "your photo", url: URL.createObjectURL(file), key: crypto.randomUUID() };
  input.value = "";
  navigate({ q: "", similar: "" }, { keepExample: true });
}

let dragDepth = 0;
const dropzone = $("#dropzone");
const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
window.addEventListener("dragenter", (event) => {
  if (!carriesFiles(event)) return;
  dragDepth += 1;
  dropzone.hidden = false;
});
window.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) dropzone.hidden = true;
});
window.addEventListener("dragover", (event) => { if (carriesFiles(event)) event.preventDefault(); });
window.addEventListener("drop", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  dragDepth = 0;
  dropzone.hidden = true;
  const [file] = event.dataTransfer.files;
  if (file) useExample(file);
});

let folderTimer = null;
let folderAbort = null;
filters.addEventListener("input", (event) => {
  if (event.target.name === "min") showMinScore();
  if (event.target.name === "in") {
    clearTimeout(folderTimer);
    folderTimer = setTimeout(() => suggestFolders(event.target.value), 120);
  }
});

// The folders to offer as the Folder field is typed in: subfolders of what it holds so far.
async function suggestFolders(prefix) {
  folderAbort?.abort();
  folderAbort = new AbortController();
  try {
    const found = await folderSuggestions(prefix, folderAbort.signal);
    $("#folders").replaceChildren(...found.folders.map((folder, i) => h("option", { value: folder, text: found.shown[i] })));
  } catch {
    // no suggestions this time
  }
}

// The filters as the form holds them, applied without reloading the page (the query stays).
function applyFilters() {
  const form = filters.elements;
  const min = Number(form.min.value);
  navigate({ in: form.in.value.trim(), after: form.after.value, before: form.before.value,
             min: min > 0 ? form.min.value : "", sort: form.sort.value }, { keepExample: true });
}
filters.addEventListener("change", applyFilters);
filters.addEventListener("submit", (event) => {
  event.preventDefault();
  applyFilters();
});

$("#filters-toggle").addEventListener("click", () => {
  const open = filters.classList.toggle("open");
  $("#filters-toggle").setAttribute("aria-expanded", String(open));
  if (open) filters.elements.in.focus();
});

function showFilterCount() {
  const active = [state.in, state.after, state.before, Number(state.min) > 0 ? state.min : ""].filter(Boolean).length;
  $("#filters-count").hidden = !active;
  $("#filters-count").textContent = String(active);
}

// "Jump to" a year of the library: its photos and older ones (the To date is that year's end).
function showYears(years) {
  const select = $("#jump-year");
  select.replaceChildren(h("option", { value: "", text: "year…" }), ...years.map((year) => h("option", { value: String(year), text: String(year) })));
}
$("#jump-year").addEventListener("change", (event) => {
  const year = event.target.value;
  if (year) navigate({ before: `${year}-12-31` }, { keepExample: true });
});
filters.addEventListener("reset", (event) => {
  event.preventDefault();
  navigate({ in: "", after: "", before: "", min: "", sort: "" }, { keepExample: true });
});

// ---- the photo view --------------------------------------------------------------------------------

function indexOf(id) {
  return grid.results.findIndex((result) => String(result.id) === String(id));
}

function openAt(index, { replace = false } = {}) {
  const result = grid.results[index];
  if (!result) return;
  const already = viewer.isOpen;
  if (!already) returnFocus = document.activeElement;
  state = { ...state, photo: String(result.id) };
  (replace || already ? history.replaceState : history.pushState).call(history, historyState(), "", urlOf(state));
  viewer.open(result.id, { result, hasPrev: index > 0, hasNext: index < grid.results.length - 1 || Boolean(run?.more) });
}

function move(step) {
  const index = indexOf(state.photo) + step;
  if (index >= grid.results.length - 3 && run?.more) loadMore();
  if (index >= 0 && index < grid.results.length) openAt(index, { replace: true });
}

function closeViewer() {
  if (!viewer.isOpen) return;
  const index = indexOf(state.photo);
  if (history.state?.viewer) {
    viewer.close();  // now, so the page behind is live again at once (focus can go there)
    history.back();  // popstate settles the state
  } else {
    state = { ...state, photo: "" };
    history.replaceState(historyState(), "", urlOf(state));
    viewer.close();
  }
  if (index >= 0) grid.focus(index);
  else returnFocus?.focus?.();
  returnFocus = null;
}

function syncViewer() {
  if (!state.photo) {
    viewer.close();
    return;
  }
  if (viewer.id === state.photo) return;
  const index = indexOf(state.photo);
  viewer.open(state.photo, { result: grid.results[index] || null, hasPrev: index > 0,
                             hasNext: index >= 0 && index < grid.results.length - 1 });
}

function syncViewerNav() {
  if (!viewer.isOpen) return;
  const index = indexOf(state.photo);
  $("#viewer-prev").disabled = index <= 0;
  $("#viewer-next").disabled = index < 0 || (index >= grid.results.length - 1 && !run?.more);
}

// ---- keyboard ----------------------------------------------------------------------------------------
// `/` goes to the search box from any state (closing what is open), `?` lists the keys; a field that
// takes a `/` (the folder, a date) keeps it.

function inField(target) {
  return Boolean(target.closest?.("input, textarea, select")) && target !== input;
}

function closeAll() {
  if (viewer.isOpen) closeViewer();
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = event.target.closest?.("input, textarea, select");
  if (event.key === "/" && !inField(event.target)) {
    event.preventDefault();  // never typed into the box: `/` only takes you there
    closeAll();
    input.focus();
    input.select();
    return;
  }
  if (event.key === "?" && !typing) {
    event.preventDefault();
    closeAll();
    $("#keys").showModal();
    return;
  }
  if (event.key === "Escape") {
    if (viewer.isOpen) { event.preventDefault(); closeViewer(); } else if (typing) event.target.blur();
    return;
  }
  if (viewer.isOpen && !typing) {
    if (event.key === "ArrowLeft") { event.preventDefault(); move(-1); }
    if (event.key === "ArrowRight") { event.preventDefault(); move(1); }
    if (event.key === "s") { event.preventDefault(); $("#viewer-similar").click(); }
    return;
  }
  if (event.key === "ArrowDown" && event.target === input && grid.results.length) {
    event.preventDefault();
    grid.focus(0);
  }
});
$("#keys-close").addEventListener("click", () => $("#keys").close());

// ---- a new store generation (an index run, a rescan): the results on screen are refreshed in place ------

async function poll() {
  try {
    const now = await rescanState();
    if (generation !== null && now.generation !== generation && !viewer.isOpen) search({ refresh: true });
    if (!viewer.isOpen) generation = now.generation;
  } catch {
    // the server is away for now; the next poll tries again
  }
  setTimeout(poll, POLL_MS);
}

// ---- library and welcome -----------------------------------------------------------------------------

$("#library-open").addEventListener("click", showLibrary);
$("#library-close").addEventListener("click", () => $("#library").close());

async function welcome() {
  $("#welcome-examples").replaceChildren(...EXAMPLES.map((text) =>
    h("button", { type: "button", class: "chip", text, onclick: () => navigate({ q: text, similar: "" }) })));
  suggestFolders("");
}

showControls();
history.replaceState(historyState(), "", urlOf(state));
welcome();
search();
syncViewer();
poll();
