// One chart per gated metric (inline SVG): the candidate's value per retrain, the champion's and the threshold,
// each candidate point naming its version and DAG run on hover and focus; and the same data as a table.
"use strict";

(() => {
  const { el, svgEl, ridText, badge, number } = window.ModelReleases;

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

  window.ModelReleases.chart = chart;
})();
