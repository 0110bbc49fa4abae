// The page's state lives in the URL (query, similar-to, filters, sort, open photo), so back, forward
// and bookmarks work; an empty query is the library, newest first. An example photo dropped on the
// page is the one thing that cannot be there.

const KEYS = ["q", "similar", "in", "after", "before", "min", "sort", "photo"];

export function readState() {
  const params = new URLSearchParams(location.search);
  const state = {};
  for (const key of KEYS) state[key] = params.get(key) || "";
  return state;
}

export function urlOf(state) {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    const value = state[key];
    if (value && !(key === "sort" && value === "relevance")) params.set(key, value);
  }
  const query = params.toString();
  return query ? `/?${query}` : "/";
}

export function writeState(state, { push = false } = {}) {
  const url = urlOf(state);
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}

// With no query, no similar-to and no example photo, the page browses the whole library, newest first.
export function isBrowsing(state, example) {
  return !state.q && !state.similar && !example;
}

// What decides the result list (not the open photo): a change here means a new search. Browsing
// has no score to cut at and one order, so the minimum score and the sort do not count there.
export function searchKey(state, example) {
  if (isBrowsing(state, example)) return JSON.stringify(["library", state.in, state.after, state.before]);
  return JSON.stringify([state.q, state.similar, state.in, state.after, state.before, state.min, state.sort,
                         example ? example.key : null]);
}

// The API's filter parameters for a state: folder and dates, plus minimum score and sort for a search.
export function filterParams(state, example) {
  const where = { in: state.in, after: state.after, before: state.before ? nextDay(state.before) : "" };
  if (isBrowsing(state, example)) return where;
  return {
    ...where,
    min_score: state.min && Number(state.min) > 0 ? state.min : "",
    sort: state.sort === "date" ? "date" : "",
  };
}

// "To" a date includes that whole day: the API's before= is a moment.
function nextDay(day) {
  const date = new Date(`${day}T00:00:00`);
  date.setDate(date.getDate() + 1);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
