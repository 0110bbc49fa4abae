// The library view: what the store holds, what failed and why, where it looks, and the last run;
// Rescan runs an incremental index of the indexed folders on the server, with its progress here.

import { libraryStatus, rescanState, startRescan } from "./api.js";
import { $, formatBytes, formatCount, formatDate, h } from "./dom.js";

export async function showLibrary() {
  const dialog = $("#library");
  const body = $("#library-body");
  body.replaceChildren(h("p", { class: "muted", text: "Reading the store…" }));
  if (!dialog.open) dialog.showModal();
  try {
    showRescan(await rescanState());
    body.replaceChildren(...render(await libraryStatus()));
  } catch (error) {
    body.replaceChildren(h("p", { class: "muted", text: error.message }));
  }
}

$("#rescan").addEventListener("click", async () => {
  try {
    showRescan(await startRescan());
  } catch (error) {
    showRescan({ phase: "failed", error: error.message });
  }
});

let following = null;

// The state of the rescan in the dialog; while one runs, asked again every second.
function showRescan(state) {
  const line = $("#rescan-state");
  const bar = $("#rescan-progress");
  $("#rescan").disabled = Boolean(state.running);
  bar.hidden = !state.running;
  if (state.phase === "starting") line.textContent = "Starting: looking for what changed…";
  else if (state.phase === "indexing") {
    line.textContent = state.total ? `Indexing ${formatCount(state.done)} of ${formatCount(state.total)} new or changed photos…`
                                   : "Looking for what changed…";
    bar.max = Math.max(state.total, 1);
    bar.value = state.done;
  } else if (state.phase === "done") line.textContent = `Rescanned: ${state.summary}.`;
  else if (state.phase === "failed") line.textContent = `The rescan failed: ${state.error}`;
  clearTimeout(following);
  if (state.running) {
    following = setTimeout(async () => {
      try {
        const now = await rescanState();
        showRescan(now);
        if (!now.running && $("#library").open) $("#library-body").replaceChildren(...render(await libraryStatus()));
      } catch {
        following = null;
      }
    }, 1000);
  }
}

function render(status) {
  const count = (n, label, bad = false) =>
    h("div", { class: bad && n ? "count bad" : "count" }, h("b", { text: formatCount(n) }), h("span", { text: label }));
  const failures = Object.entries(status.failures);
  const run = status.last_run;
  const rows = [
    ["Folders", status.shown_roots.length ? h("ul", {}, status.shown_roots.map((root) => h("li", {}, h("code", { text: root })))) : "none"],
    ["Failures", failures.length ? h("ul", {}, failures.map(([reason, n]) => h("li", { text: `${formatCount(n)} ${reason}` }))) : "none"],
    ["Last run", run ? `${formatDate(run.finished_at)}: ${run.outcome}; ${formatCount(run.new)} new, ${formatCount(run.updated)} updated, `
                       + `${formatCount(run.moved)} moved, ${formatCount(run.deleted)} deleted, ${formatCount(run.failed)} failed` : "never"],
    ["Model", h("code", { text: status.model || "none" })],
    ["Store", h("span", {}, h("code", { text: status.shown_home }), ` (${formatBytes(status.store_bytes)})`)],
  ];
  return [
    h("div", { class: "counts" },
      count(status.images, "photos indexed"), count(status.failed, "failed", true), count(status.deleted, "deleted")),
    h("dl", { class: "kv" }, rows.flatMap(([term, value]) => [h("dt", { text: term }), h("dd", {}, value)])),
  ];
}
