// The result grid: justified rows (each tile as wide as its photo's aspect ratio allows), thumbnails
// fetched lazily by the browser, arrow keys to move. On hover: the score and why-it-matched of a
// search result; the date of a library photo (it has no score), which the library view groups under
// month headers ("March 2024"). A search lists its matches first; a "Related" divider comes before
// the first result that is not a match. A photo whose file is gone says so on its tile.

import { baseName, formatDate, formatMonth, h } from "./dom.js";

export class Grid {
  constructor(element, { hrefFor, onOpen }) {
    this.element = element;
    this.hrefFor = hrefFor;
    this.onOpen = onOpen;
    this.results = [];
    element.addEventListener("keydown", (event) => this.onKey(event));
  }

  clear() {
    this.results = [];
    this.element.replaceChildren();
  }

  append(results) {
    const start = this.results.length;
    const items = [];
    let month = start ? monthOf(this.results[start - 1]) : "";
    results.forEach((result, i) => {
      const previous = start + i > 0 ? (i > 0 ? results[i - 1] : this.results[start - 1]) : null;
      if (result.match === false && (!previous || previous.match !== false)) items.push(...divider());
      if (typeof result.score !== "number" && result.date && monthOf(result) !== month) {  // the library only
        month = monthOf(result);
        items.push(h("span", { class: "row-end" }), h("h2", { class: "month", text: formatMonth(result.date) }));
      }
      items.push(this.tile(result, start + i));
    });
    this.results.push(...results);
    this.element.append(...items);
  }

  tile(result, index) {
    const ratio = result.width && result.height ? Math.min(Math.max(result.width / result.height, 0.4), 3) : 4 / 3;
    const name = baseName(result.shown_path);
    const image = h("img", { alt: name, loading: "lazy", decoding: "async", src: result.thumb, draggable: "false" });
    image.addEventListener("load", () => image.classList.add("loaded"), { once: true });
    image.addEventListener("error", () => markBroken(tile, result), { once: true });
    const spacer = h("i");
    spacer.style.paddingBottom = `${100 / ratio}%`;
    const scored = typeof result.score === "number";
    const detail = scored ? reasons(result) : datedBy(result);
    const tile = h("a", {
      class: "tile", href: this.hrefFor(result), title: result.shown_path,
      dataset: { index, id: result.id, name },
      onclick: (event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        this.onOpen(index);
      },
    },
    spacer, image,
    scored ? h("span", { class: "badge", text: percent(result.score) }) : null,
    h("span", { class: "caption" },
      h("span", { class: "name", text: name }),
      detail ? h("span", { class: scored ? "why" : "when", text: detail }) : null));
    tile.style.flexGrow = ratio;
    tile.style.flexBasis = `calc(var(--row) * ${ratio})`;
    return tile;
  }

  tiles() {
    return [...this.element.querySelectorAll(".tile")];
  }

  focus(index) {
    const tile = this.tiles()[index];
    if (tile) {
      tile.focus();
      tile.scrollIntoView({ block: "nearest" });
    }
  }

  onKey(event) {
    const tile = event.target.closest(".tile");
    if (!tile) return;
    const index = Number(tile.dataset.index);
    const moves = { ArrowLeft: -1, ArrowRight: 1 };
    if (event.key in moves) {
      event.preventDefault();
      this.focus(index + moves[event.key]);
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      this.focus(this.verticalNeighbour(index, event.key === "ArrowDown" ? 1 : -1));
    }
  }

  // The tile in the next row up or down whose centre is nearest this one's, as the eye expects.
  verticalNeighbour(index, direction) {
    const tiles = this.tiles();
    const here = tiles[index].getBoundingClientRect();
    const centre = here.left + here.width / 2;
    let best = index, bestRowTop = null, bestDistance = Infinity;
    for (let i = index + direction; i >= 0 && i < tiles.length; i += direction) {
      const box = tiles[i].getBoundingClientRect();
      if (Math.abs(box.top - here.top) < 2) continue;  // same row
      if (bestRowTop !== null && Math.abs(box.top - bestRowTop) >= 2) break;  // past the next row
      bestRowTop = box.top;
      const distance = Math.abs(box.left + box.width / 2 - centre);
      if (distance < bestDistance) { best = i; bestDistance = distance; }
    }
    return best;
  }
}

// "Related", on a row of its own; the filler before it keeps the last row of matches at its height.
function divider() {
  return [h("span", { class: "row-end" }), h("div", { class: "divider", role: "separator", text: "Related" })];
}

// A score as the page shows it, as the CLI does: "87%", "<1%" and ">99%" at the ends.
export function percent(score) {
  return score < 0.005 ? "<1%" : score >= 0.995 ? ">99%" : `${Math.round(score * 100)}%`;
}

// A library photo's date, and which one it is when it is not the capture time.
function datedBy(result) {
  const when = formatDate(result.date || result.taken || result.modified);
  return result.dated_by === "file" ? `${when} (file time)` : when;
}

function monthOf(result) {
  return (result.date || "").slice(0, 7);
}

// A tile whose thumbnail will not load: the server says why (a file moved or deleted since indexing).
async function markBroken(tile, result) {
  tile.classList.add("broken");
  let reason = "cannot show this photo";
  try {
    const body = await (await fetch(result.thumb)).json();
    if (body.missing) {
      reason = body.error;
      tile.classList.add("missing");
    }
  } catch {
    // not JSON: keep the plain reason
  }
  tile.append(h("span", { class: "broken-reason", text: reason }));
  tile.title = `${result.shown_path}: ${reason}`;
}

// Why a photo matched, in the engine's plain words ("Egyptian cat 39%", "beach -> seashore 62%").
export function reasons(result) {
  return Array.isArray(result.reasons) ? result.reasons.join(result.words ? "; " : ", ") : "";
}
