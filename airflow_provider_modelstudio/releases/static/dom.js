// What the Model releases page's scripts share: building DOM nodes from data (always as text, never as HTML),
// links that work from Airflow's sandboxed iframe, RIDs, numbers, badges, and the theme.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, ...children) {
    return fill(document.createElement(tag), attrs, children);
  }

  function svgEl(tag, attrs, ...children) {
    return fill(document.createElementNS(SVG, tag), attrs, children);
  }

  function fill(node, attrs, children) {
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function safeUrl(url) {
    if (typeof url !== "string" || !url) return null;
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  function link(text, url, options) {
    const href = safeUrl(url);
    if (!href) return null;
    const external = !options || options.external !== false;
    const anchor = el("a", {
      href,
      target: external ? "_blank" : "_top",
      rel: external ? "noopener noreferrer" : null,
      class: options && options.class,
    }, text);
    anchor.addEventListener("click", (event) => followFromAirflow(event, anchor));
    return anchor;
  }

  // Airflow shows the page in an iframe sandboxed without allow-top-navigation and allow-popups, so its links
  // could neither open Airflow's pages nor Foundry. The frame has Airflow's origin: the same link, clicked in
  // Airflow's own document, opens as if Airflow had it.
  function followFromAirflow(event, anchor) {
    if (window.top === window || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    let top;
    try {
      top = window.top.document;
    } catch (_) {
      return; // another origin: leave the link to the browser
    }
    event.preventDefault();
    const twin = top.createElement("a");
    twin.href = anchor.href;
    twin.target = anchor.target === "_top" ? "_self" : anchor.target;
    if (anchor.rel) twin.rel = anchor.rel;
    twin.hidden = true;
    top.body.append(twin);
    twin.click();
    twin.remove();
  }

  function short(rid) {
    if (!rid) return "—";
    const last = String(rid).split(".").pop();
    return last.length > 14 ? last.slice(0, 13) + "…" : last;
  }

  function ridText(rid, attrs) {
    return el("span", { class: "rid short", title: rid, ...(attrs || {}) }, short(rid));
  }

  function badge(text, kind) {
    return el("span", { class: `badge ${kind}` }, text);
  }

  function number(value) {
    return typeof value === "number" ? String(Math.round(value * 10000) / 10000) : "—";
  }

  // Theme: ?theme=dark|light, else Airflow's own (the page is in an iframe of the same origin), else the system's.
  function applyTheme() {
    const asked = new URLSearchParams(window.location.search).get("theme");
    let dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    if (asked === "dark" || asked === "light") {
      dark = asked === "dark";
    } else {
      try {
        const root = window.parent !== window ? window.parent.document.documentElement : null;
        if (root && (root.classList.contains("dark") || root.classList.contains("light"))) {
          dark = root.classList.contains("dark");
        }
      } catch (_) {
        // another origin: keep the system's theme
      }
    }
    document.documentElement.dataset.theme = dark ? "dark" : "light";
  }

  function watchTheme() {
    if (new URLSearchParams(window.location.search).get("theme")) return;
    try {
      if (window.parent === window) return;
      new MutationObserver(applyTheme).observe(window.parent.document.documentElement, {
        attributes: true,
        attributeFilter: ["class", "style"],
      });
    } catch (_) {
      // another origin
    }
  }

  window.ModelReleases = { el, svgEl, link, short, ridText, badge, number, applyTheme, watchTheme };
})();
