// The library view: what the store holds, what failed and why, where it looks, and the last run.

import { libraryStatus } from "./api.js";
import { $, formatBytes, formatCount, formatDate, h } from "./dom.js";

export async function showLibrary() {
  const dialog = $("#library");
  const body = $("#library-body");
  body.replaceChildren(h("p", { class: "muted", text: "Reading the store…" }));
  if (!dialog.open) dialog.showModal();
  try {
    body.replaceChildren(...render(await libraryStatus()));
  } catch (error) {
    body.replaceChildren(h("p", { class: "muted", text: error.message }));
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
