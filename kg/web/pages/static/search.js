// Search-as-you-type: the search box asks the GraphQL API (the stored `search` document, sent as a GET) and lists
// the matches as a listbox; arrow keys move, Enter opens. Without this script the form submits to /search.
(() => {
  "use strict";
  const input = document.getElementById("search-box");
  const list = document.getElementById("search-results");
  if (!input || !list || !input.dataset.document) return;
  const documentText = input.dataset.document;
  let timer = 0;
  let asked = 0;
  let active = -1;

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  const show = (hits) => {
    list.replaceChildren();
    hits.forEach((hit, n) => {
      const item = document.createElement("li");
      item.id = `search-hit-${n}`;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      const link = document.createElement("a");
      const iri = hit.entity.id;
      link.href = iri.startsWith("https://w3id.org/scad/id/") ? `/id/${iri.slice(25)}` : iri;
      link.textContent = hit.entity.label;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = hit.entity.__typename;
      link.append(kind);
      item.append(link);
      list.append(item);
    });
    list.hidden = hits.length === 0;
    input.setAttribute("aria-expanded", String(hits.length > 0));
  };

  const select = (n) => {
    const items = [...list.children];
    if (!items.length) return;
    active = (n + items.length) % items.length;
    items.forEach((item, i) => item.setAttribute("aria-selected", String(i === active)));
    input.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({ block: "nearest" });
  };

  const ask = async (text) => {
    const mine = ++asked;
    const params = new URLSearchParams({ query: documentText, variables: JSON.stringify({ text, first: 8 }) });
    try {
      const response = await fetch(`/graphql?${params}`, { headers: { Accept: "application/json" } });
      const body = await response.json();
      if (mine === asked) show((body.data && body.data.search) || []);
    } catch (_) {
      if (mine === asked) close();
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text) { asked++; close(); return; }
    timer = setTimeout(() => ask(text), 120);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") { event.preventDefault(); select(active + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); select(active - 1); }
    else if (event.key === "Escape") { close(); }
    else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      list.children[active].querySelector("a").click();
    }
  });
  document.addEventListener("click", (event) => {
    if (!list.contains(event.target) && event.target !== input) close();
  });
})();
