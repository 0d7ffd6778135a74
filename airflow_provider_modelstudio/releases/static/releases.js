// The Model releases page. Every value from the API is inserted as text (textContent, attributes), never as
// HTML: model names, metric names and RIDs come from Foundry. Links leave the page only for http(s) URLs.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const VIEWS = { deployment: "Live deployment", studio: "Studio" };
  const UNGROUPED = { deployment: "Releases without a live deployment", studio: "Releases without a studio" };
  const GOOD = new Set(["deployed", "promoted", "passed the gate", "trained"]);
  const BUSY = new Set(["deploying", "gate running", "training"]);
  const state = { data: null, serving: null, view: "deployment" };

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

  function airflowUrl(path) {
    return new URL("../" + path, window.location.href).href;
  }

  function runUrl(release) {
    return airflowUrl(`dags/${encodeURIComponent(release.dag_id)}/runs/${encodeURIComponent(release.run_id)}`);
  }

  function taskUrl(release, kind) {
    const task = release.tasks[kind];
    if (!task) return null;
    const mapped = task.map_index >= 0 ? `/mapped/${task.map_index}` : "";
    return `${runUrl(release)}/tasks/${encodeURIComponent(task.task_id)}${mapped}`;
  }

  function when(iso) {
    if (!iso) return "—";
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
  }

  function badge(text, kind) {
    return el("span", { class: `badge ${kind}` }, text);
  }

  function outcomeBadge(outcome) {
    return badge(outcome, GOOD.has(outcome) ? "ok" : BUSY.has(outcome) ? "busy" : "bad");
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

  async function getJson(path) {
    const answer = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (answer.status === 401 || answer.status === 403) throw new Error("Sign in to Airflow to see the releases.");
    if (!answer.ok) throw new Error(`The releases API answered HTTP ${answer.status}.`);
    return answer.json();
  }

  // What serves now ----------------------------------------------------------------------------------------

  function renderServing() {
    const box = document.getElementById("serving");
    const deployments = (state.serving && state.serving.deployments) || [];
    if (!deployments.length) {
      box.replaceChildren(el("p", { class: "muted" }, "No live deployment in the releases you may see."));
      return;
    }
    const names = modelNames();
    const rows = deployments.map((item) => {
      const known = item.known;
      const status = known
        ? badge(`${item.state || "unknown state"}${item.ready ? ", ready" : ", not ready"}`, item.ready ? "ok" : "bad")
        : badge("unknown", "unknown");
      return el(
        "tr",
        { "data-deployment": item.rid },
        el("td", {}, ridText(item.rid)),
        el("td", {}, known ? names.get(item.model_rid) || "" : "", known ? " " : "", known ? ridText(item.model_rid) : "—"),
        el("td", {}, known ? ridText(item.version_rid, { "data-version": item.version_rid }) : "—"),
        el("td", {}, status, known ? "" : el("div", { class: "muted" }, item.reason)),
        el("td", { class: "muted" }, known ? new Date(item.read_at * 1000).toLocaleTimeString() : ""),
        el(
          "td",
          { class: "links" },
          link("Foundry: live deployment", item.live_deployment_url),
          link("Foundry: model version", item.model_version_url),
        ),
      );
    });
    const head = ["Live deployment", "Model", "Serves version", "State", "Read at", "Links"];
    box.replaceChildren(el("table", { id: "serving-table" }, el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))), el("tbody", {}, rows)));
  }

  function modelNames() {
    const names = new Map();
    for (const release of (state.data && state.data.releases) || []) {
      if (release.model_rid && release.model_name && !names.has(release.model_rid)) {
        names.set(release.model_rid, release.model_name);
      }
    }
    return names;
  }

  // Groups, charts, timelines ------------------------------------------------------------------------------

  function renderGroups() {
    const main = document.getElementById("groups");
    const byId = new Map(state.data.releases.map((release) => [release.id, release]));
    const groups = state.data.groups.filter((group) => group.kind === state.view);
    const grouped = new Set(groups.flatMap((group) => group.release_ids));
    const sections = groups.map((group) => renderGroup(group, group.release_ids.map((id) => byId.get(id))));
    const others = state.data.releases.filter((release) => !grouped.has(release.id));
    if (others.length) sections.push(renderGroup({ kind: state.view, rid: null, series: {} }, others));
    if (!sections.length) sections.push(el("p", { class: "muted" }, "No releases yet in the DAGs you may see."));
    main.replaceChildren(...sections);
  }

  function renderGroup(group, releases) {
    const title = group.rid
      ? el("h2", {}, `${VIEWS[group.kind]} `, el("span", { class: "rid" }, group.rid))
      : el("h2", {}, UNGROUPED[group.kind]);
    const charts = Object.entries(group.series).map(([metric, points]) => chart(metric, points));
    return el(
      "section",
      { class: "group", "data-group": group.rid || "", "data-kind": group.kind },
      title,
      charts.length ? el("div", { class: "charts" }, charts) : null,
      el("h3", {}, "Releases"),
      releaseTable(releases),
    );
  }

  function releaseTable(releases) {
    const head = ["When", "DAG run", "Model version", "Gate", "Promoted", "Deploy", "Links"];
    return el(
      "table",
      { class: "releases" },
      el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))),
      el("tbody", {}, releases.map(releaseRow)),
    );
  }

  function releaseRow(release) {
    const gate = release.gate;
    const deploy = release.deploy;
    const promoted = (deploy && deploy.promoted_version_rid) || (release.promotion && release.promotion.promoted_version_rid);
    return el(
      "tr",
      { class: "release", "data-release": release.id, "data-outcome": release.outcome, "data-run": release.run_id },
      el("td", {}, when(release.when)),
      el("td", {}, link(release.dag_id, runUrl(release), { external: false }), el("div", { class: "rid" }, release.run_id)),
      el(
        "td",
        {},
        release.model_name ? el("div", { class: "model-name" }, release.model_name) : null,
        ridText(release.version_rid, { "data-version": release.version_rid || "" }),
      ),
      el("td", { class: "gate" }, gate ? gateCell(gate) : "—"),
      el("td", {}, promoted ? ridText(promoted) : "—"),
      el("td", { class: "deploy" }, outcomeBadge(release.outcome), deploy ? deployDetails(deploy) : null),
      el("td", { class: "links" }, linksOf(release)),
    );
  }

  function gateCell(gate) {
    const verdict = gate.passed === true ? badge("PASS", "ok") : gate.passed === false ? badge("FAIL", "bad") : badge("no verdict", "unknown");
    if (!gate.rows.length) return verdict;
    const head = ["Metric", "Candidate", "Champion", "Threshold", "Verdict", "Note"];
    const rows = gate.rows.map((row) =>
      el(
        "tr",
        {},
        el("td", {}, row.metric),
        el("td", {}, number(row.candidate)),
        el("td", {}, number(row.champion)),
        el("td", {}, row.threshold),
        el("td", {}, badge(row.verdict, row.verdict === "PASS" ? "ok" : "bad")),
        el("td", {}, row.note || ""),
      ),
    );
    return el(
      "details",
      {},
      el("summary", {}, verdict, ` ${gate.rows.length} checks`),
      gate.champion_version_rid ? el("div", { class: "muted" }, "champion ", ridText(gate.champion_version_rid)) : null,
      el("table", { class: "gate-table" }, el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))), el("tbody", {}, rows)),
    );
  }

  function deployDetails(deploy) {
    const lines = [];
    if (deploy.smoke_tested) lines.push(`smoke test passed in ${Math.round(deploy.smoke_test_latency_ms)} ms`);
    if (deploy.rollback_version_rid) lines.push(`rolled back to ${short(deploy.rollback_version_rid)}`);
    if (deploy.problem) lines.push(deploy.problem);
    return lines.map((line) => el("div", { class: "muted problem" }, line));
  }

  function linksOf(release) {
    const links = [];
    for (const kind of ["train", "gate", "promote", "deploy"]) {
      links.push(link(`${kind} task`, taskUrl(release, kind), { external: false, class: "task-link" }));
    }
    links.push(link("Foundry: build", release.build_url));
    const version = (release.deploy && release.deploy.model_version_url) || (release.promotion && release.promotion.model_version_url);
    links.push(link("Foundry: model version", version));
    links.push(link("Foundry: live deployment", release.deploy && release.deploy.live_deployment_url));
    return links;
  }

  // One chart per gated metric: the candidate's value per retrain, the champion's and the threshold.
  function chart(metric, points) {
    const width = 600, height = 220, left = 52, right = 16, top = 14, bottom = 30;
    const values = points.flatMap((p) => [p.candidate, p.champion, p.threshold]).filter((v) => typeof v === "number");
    let low = Math.min(...values), high = Math.max(...values);
    if (!values.length) { low = 0; high = 1; }
    if (high === low) { low -= 0.5; high += 0.5; }
    const pad = (high - low) * 0.1;
    low -= pad; high += pad;
    const x = (i) => left + (points.length === 1 ? (width - left - right) / 2 : (i * (width - left - right)) / (points.length - 1));
    const y = (v) => top + ((high - v) * (height - top - bottom)) / (high - low);
    const path = (key) => {
      const parts = points.map((p, i) => (typeof p[key] === "number" ? [x(i), y(p[key])] : null)).filter(Boolean);
      return parts.length ? "M" + parts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" L") : "";
    };
    const ticks = [low + pad, (low + high) / 2, high - pad].map((v) =>
      svgEl("g", {}, svgEl("line", { class: "axis", x1: left, x2: width - right, y1: y(v), y2: y(v) }), svgEl("text", { x: 4, y: y(v) + 4 }, number(v))),
    );
    const champions = points.map((p, i) =>
      typeof p.champion === "number"
        ? svgEl("rect", { class: "point", x: x(i) - 3, y: y(p.champion) - 3, width: 6, height: 6 }, svgEl("title", {}, `champion ${number(p.champion)}`))
        : null,
    );
    const candidates = points.map((p, i) => {
      if (typeof p.candidate !== "number") return null;
      const label = `${metric} ${number(p.candidate)} — version ${p.version_rid || "unknown"} — DAG run ${p.dag_id} / ${p.run_id}`;
      const dot = svgEl(
        "circle",
        { class: p.passed ? "point" : "point failed", cx: x(i), cy: y(p.candidate), r: 5, tabindex: 0, "data-version": p.version_rid || "", "data-run": p.run_id, "aria-label": label },
        svgEl("title", {}, label),
      );
      dot.addEventListener("mouseenter", (event) => showTooltip(label, event));
      dot.addEventListener("focus", (event) => showTooltip(label, event));
      dot.addEventListener("mouseleave", hideTooltip);
      dot.addEventListener("blur", hideTooltip);
      return dot;
    });
    const labels = points.map((p, i) => svgEl("text", { x: x(i) - 12, y: height - 10 }, `#${i + 1}`));
    const drawing = svgEl(
      "svg",
      { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${metric} across ${points.length} retrains` },
      ticks,
      svgEl("path", { class: "threshold", d: path("threshold") }),
      svgEl("path", { class: "champion", d: path("champion") }),
      svgEl("path", { class: "candidate", d: path("candidate") }),
      champions,
      candidates,
      labels,
    );
    const legend = el("div", { class: "legend" }, el("span", { class: "l-candidate" }, "candidate"), el("span", { class: "l-champion" }, "champion"), el("span", { class: "l-threshold" }, "threshold"));
    return el("figure", { class: "chart", "data-metric": metric }, el("figcaption", {}, el("strong", {}, metric)), drawing, legend, chartTable(metric, points));
  }

  // The chart's data as a table (for screen readers, copying, and when the drawing says too little).
  function chartTable(metric, points) {
    const head = ["#", "DAG run", "Version", "Candidate", "Champion", "Threshold", "Verdict"];
    const rows = points.map((p, i) =>
      el(
        "tr",
        {},
        el("td", {}, `#${i + 1}`),
        el("td", {}, `${p.dag_id} / ${p.run_id}`),
        el("td", {}, ridText(p.version_rid)),
        el("td", {}, number(p.candidate)),
        el("td", {}, number(p.champion)),
        el("td", {}, number(p.threshold)),
        el("td", {}, badge(p.passed ? "PASS" : "FAIL", p.passed ? "ok" : "bad")),
      ),
    );
    return el("details", { class: "chart-table" }, el("summary", {}, `${metric} as a table`), el("table", {}, el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))), el("tbody", {}, rows)));
  }

  function showTooltip(text, event) {
    const tip = document.getElementById("tooltip");
    tip.textContent = text;
    const box = event.target.getBoundingClientRect();
    tip.style.left = `${Math.min(box.left + 10, window.innerWidth - 430)}px`;
    tip.style.top = `${box.top + 12}px`;
    tip.style.display = "block";
  }

  function hideTooltip() {
    document.getElementById("tooltip").style.display = "none";
  }

  function switchView(view) {
    state.view = view;
    for (const button of document.querySelectorAll("#views button")) {
      button.setAttribute("aria-pressed", String(button.dataset.view === view));
    }
    if (state.data) renderGroups();
  }

  async function load() {
    applyTheme();
    watchTheme();
    document.body.append(el("div", { id: "tooltip", role: "tooltip" }));
    for (const button of document.querySelectorAll("#views button")) {
      button.addEventListener("click", () => switchView(button.dataset.view));
    }
    const summary = document.getElementById("summary");
    try {
      state.data = await getJson("api/releases");
      const runs = state.data.runs_read;
      summary.textContent = `${state.data.releases.length} releases from ${runs} DAG runs (the newest ${state.data.limit} at most), as the provider's tasks recorded them.`;
      renderGroups();
    } catch (error) {
      summary.textContent = error.message;
      document.getElementById("serving").replaceChildren();
      return;
    }
    try {
      state.serving = await getJson("api/serving");
    } catch (error) {
      state.serving = { deployments: [] };
    }
    renderServing();
    document.body.dataset.loaded = "true";
  }

  document.addEventListener("DOMContentLoaded", load);
})();
