// The Model releases page: fetches the API, renders what serves now and the releases per live deployment or per
// studio. Every value from the API is inserted as text (see dom.js): model names, metric names and RIDs come
// from Foundry.
"use strict";

(() => {
  const { el, link, short, ridText, badge, number, applyTheme, watchTheme, chart } = window.ModelReleases;
  const VIEWS = { deployment: "Live deployment", studio: "Studio" };
  const UNGROUPED = { deployment: "Releases without a live deployment", studio: "Releases without a studio" };
  const GOOD = new Set(["deployed", "promoted", "passed the gate", "trained"]);
  const BUSY = new Set(["deploying", "gate running", "training"]);
  const state = { data: null, serving: null, view: "deployment" };

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

  function outcomeBadge(outcome) {
    return badge(outcome, GOOD.has(outcome) ? "ok" : BUSY.has(outcome) ? "busy" : "bad");
  }

  async function getJson(path) {
    const answer = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (answer.status === 401 || answer.status === 403) throw new Error("Sign in to Airflow to see the releases.");
    if (!answer.ok) throw new Error(`The releases API answered HTTP ${answer.status}.`);
    return answer.json();
  }

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
