// A tiny element builder: text always goes through textContent (no HTML injection).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replace a list's items; its next sibling `.empty` shows when there is none. */
export function fill(list, items) {
  list.replaceChildren(...items);
  const empty = list.nextElementSibling;
  if (empty?.classList.contains("empty")) empty.hidden = items.length > 0;
}
