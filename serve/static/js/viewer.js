// The photo view: the photo large, what the catalog knows about it, "similar photos" in one click,
// and "what the model sees" (its ImageNet classes and nearest words, as `devsearch labels`). It takes
// the focus while open (the page behind is inert) and never blows a photo up past twice its size.

const BEHIND = ["header.bar", "#filters", "main"];  // inert while the photo view is open
const MAX_UPSCALE = 2;

import { ApiError, photoInfo, photoLabels } from "./api.js";
import { $, baseName, folderOf, formatBytes, formatDate, h, toast } from "./dom.js";
import { percent } from "./grid.js";

export class Viewer {
  constructor({ onClose, onMove, onSimilar, onFolder, onWord }) {
    this.element = $("#viewer");
    this.image = $("#viewer-image");
    this.callbacks = { onClose, onMove, onSimilar, onFolder, onWord };
    this.id = null;
    this.info = null;
    this.abort = null;
    $("#viewer-close").addEventListener("click", () => onClose());
    $("#viewer-prev").addEventListener("click", () => onMove(-1));
    $("#viewer-next").addEventListener("click", () => onMove(1));
    $("#viewer-similar").addEventListener("click", () => onSimilar(this.id));
    $("#viewer-folder-filter").addEventListener("click", () => this.info && onFolder(this.info.folder));
    $("#viewer-labels").addEventListener("click", () => this.showLabels());
    this.image.addEventListener("click", () => window.open(this.info?.photo, "_blank", "noopener"));
  }

  get isOpen() {
    return !this.element.hidden;
  }

  // id: the photo; result: its grid entry when it has one (thumbnail already loaded; score and rank
  // when it is a search result); hasPrev/hasNext: arrows.
  async open(id, { result = null, hasPrev = false, hasNext = false } = {}) {
    this.abort?.abort();
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.id = String(id);
    const opening = this.element.hidden;
    this.element.hidden = false;
    document.body.classList.add("viewing");
    $("#viewer-gone").hidden = true;
    this.image.hidden = false;
    if (opening) {
      for (const selector of BEHIND) $(selector).inert = true;
      this.element.focus();
    }
    $("#viewer-prev").disabled = !hasPrev;
    $("#viewer-next").disabled = !hasNext;
    $("#viewer-labels-out").hidden = true;
    $("#viewer-labels").disabled = false;
    if (result) this.show(result.thumb, result.shown_path);
    let info;
    try {
      info = await photoInfo(id, signal);
    } catch (error) {
      if (error.name === "AbortError") return;
      toast(error instanceof ApiError ? error.message : "cannot reach the server");
      this.callbacks.onClose();
      return;
    }
    this.info = info;
    this.fill(info, result);
    this.limitScale(info);
    const large = new Image();
    large.addEventListener("load", () => { if (this.id === String(info.id)) this.image.src = large.src; });
    large.addEventListener("error", () => { if (this.id === String(info.id)) this.showGone(info.preview); });
    large.src = info.preview;
    if (!result) this.show(info.thumb, info.shown_path);
  }

  // At most MAX_UPSCALE times the photo's own size: a 46x50 photo is shown 92x100, not 700 px wide.
  limitScale(info) {
    this.image.style.maxWidth = info.width ? `${info.width * MAX_UPSCALE}px` : "";
    this.image.style.maxHeight = info.height ? `${info.height * MAX_UPSCALE}px` : "";
  }

  // The file is gone (moved or deleted since indexing): say so, with what to do, instead of a broken image.
  async showGone(url) {
    let reason = "This photo cannot be shown.";
    try {
      const body = await (await fetch(url)).json();
      if (body.missing) reason = `This photo was ${body.error}.`;
    } catch {
      // not JSON: keep the plain reason
    }
    this.image.hidden = true;
    $("#viewer-gone").textContent = reason;
    $("#viewer-gone").hidden = false;
  }

  show(src, path) {
    this.image.src = src;
    this.image.alt = path.split("/").pop();
  }

  fill(info, result) {
    const scored = typeof result?.score === "number";  // a search result; a library photo has no score
    $("#viewer-name").textContent = baseName(info.shown_path);  // names as shown: escapes, never obeyed
    $("#viewer-folder").textContent = folderOf(info.shown_path);
    const facts = [
      ["Size", info.width && info.height ? `${info.width} × ${info.height}` : ""],
      ["File", formatBytes(info.bytes)],
      ["Taken", formatDate(info.taken)],
      ["Modified", formatDate(info.modified)],
      ["Sorted by", info.dated_by === "file" ? "the file's time (no capture time in the photo)" : "the capture time"],
      ["Score", scored ? `${percent(result.score)}${result.match === false ? " (related, not a match)" : ""}` : ""],
      ...(scored && Array.isArray(result.reasons) ? result.reasons.map((reason, i) => [i ? "" : "Why", reason]) : []),
      ["Rank", scored ? `#${result.rank}` : ""],
    ].filter(([, value]) => value);  // a reason after the first has an empty term
    $("#viewer-facts").replaceChildren(...facts.flatMap(([term, value]) => [h("dt", { text: term }), h("dd", { text: value })]));
    $("#viewer-original").href = info.photo;
  }

  async showLabels() {
    const out = $("#viewer-labels-out");
    const button = $("#viewer-labels");
    const id = this.id;
    button.disabled = true;
    out.hidden = false;
    out.replaceChildren(h("p", { class: "muted", text: "Looking… the first time loads the model (a few seconds)." }));
    try {
      const labels = await photoLabels(id, this.abort.signal);
      if (this.id !== id) return;
      out.replaceChildren(
        h("h3", { text: "ImageNet classes" }),
        h("div", { class: "bars" }, labels.imagenet.map(barRow)),
        h("h3", { text: "Nearest words" }),
        h("div", { class: "words" }, labels.words.map(({ word, score }) =>
          h("button", { type: "button", class: "chip", title: `cosine ${score.toFixed(3)}: search for it`, text: word,
                        onclick: () => this.callbacks.onWord(word) }))),
      );
    } catch (error) {
      if (error.name === "AbortError") return;
      out.replaceChildren(h("p", { class: "muted", text: error.message }));
      button.disabled = false;
    }
  }

  close() {
    this.abort?.abort();
    for (const selector of BEHIND) $(selector).inert = false;
    this.element.hidden = true;
    document.body.classList.remove("viewing");
    this.image.removeAttribute("src");
    this.id = null;
    this.info = null;
  }
}

function barRow({ label, score }) {
  const fill = h("span", { class: "fill" });
  fill.style.width = `${Math.max(score * 100, 1.5)}%`;
  return h("div", { class: "bar-row" },
    h("span", { text: label }),
    h("span", { class: "pct", text: `${(score * 100).toFixed(1)}%` }),
    h("span", { class: "track" }, fill));
}
