// The result grid: justified rows (each tile as wide as its photo's aspect ratio allows), thumbnails
// fetched lazily by the browser, arrow keys to move. On hover: the score and why-it-matched of a
// search result; the date of a library photo (it has no score).

import { baseName, formatDate, h } from "./dom.js";

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
    this.results.push(...results);
    this.element.append(...results.map((result, i) => this.tile(result, start + i)));
  }

  tile(result, index) {
    const ratio = result.width && result.height ? Math.min(Math.max(result.width / result.height, 0.4), 3) : 4 / 3;
    const name = baseName(result.shown_path);
    const image = h("img", { alt: name, loading: "lazy", decoding: "async", src: result.thumb, draggable: "false" });
    image.addEventListener("load", () => image.classList.add("loaded"), { once: true });
    image.addEventListener("error", () => tile.classList.add("broken"), { once: true });
    const spacer = h("i");
    spacer.style.paddingBottom = `${100 / ratio}%`;
    const scored = typeof result.score === "number";
    const detail = scored ? reasons(result) : formatDate(result.taken || result.modified);
    const tile = h("a", {
      class: "tile", href: this.hrefFor(result), role: "listitem", title: result.shown_path,
      dataset: { index, id: result.id, name },
      onclick: (event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        this.onOpen(index);
      },
    },
    spacer, image,
    scored ? h("span", { class: "badge", text: result.score.toFixed(3) }) : null,
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

// A short line of why a photo matched, when the engine says: its reasons (`why`) and the parts of
// its score (`cosine`, `mass`), optional fields of a result.
export function reasons(result) {
  return [whyText(result), scoreParts(result)].filter(Boolean).join(" · ");
}

export function whyText(result) {
  if (!Array.isArray(result.why)) return "";
  return result.why.map((r) => (typeof r === "string" ? r : r.class || r.label || r.word)).filter(Boolean).join(", ");
}

export function scoreParts(result) {
  const parts = [["cosine", result.cosine], ["mass", result.mass]].filter(([, value]) => typeof value === "number");
  return parts.map(([name, value]) => `${name} ${value.toFixed(3)}`).join(" + ");
}
