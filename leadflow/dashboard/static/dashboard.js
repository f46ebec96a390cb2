// leadflow sales-ops dashboard: fetches dashboard/data.json and draws every SPEC §9 metric
// as an inline SVG chart with a table of the same numbers under it. No libraries, no network
// beyond this server. Data text only ever reaches the page through textContent.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const params = new URLSearchParams(window.location.search);
  const refreshSeconds = Math.max(1, Number(params.get("refresh")) || 30);
  const DATA_URL = "dashboard/data.json";
  const SERIES = ["var(--c1)", "var(--c2)"];
  const TIER_COLOR = { hot: "var(--hot)", warm: "var(--warm)", cold: "var(--cold)",
                       unqualified: "var(--unqualified)" };
  let loads = 0;

  // ---------------------------------------------------------------- formatting
  const dash = "—";
  const num = (v) => (v == null ? dash : Number(v).toLocaleString("en-US"));
  const pct = (v) => (v == null ? dash : `${(v * 100).toFixed(1)} %`);
  const ms = (v) => (v == null ? dash : v >= 1000 ? `${(v / 1000).toFixed(2)} s`
                                                  : `${v.toFixed(1)} ms`);
  function dur(seconds) {
    if (seconds == null) return dash;
    if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 0)} s`;
    if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
    if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
    return `${(seconds / 86400).toFixed(1)} d`;
  }
  const hours = (h) => (h == null ? dash : dur(h * 3600));
  const words = (s) => String(s).replace(/_/g, " ");

  // ---------------------------------------------------------------- DOM helpers
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value != null) node.setAttribute(key, value);
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value != null) node.setAttribute(key, value);
    }
    if (text != null) node.textContent = String(text);
    return node;
  }
  let uid = 0;

  // A horizontal bar chart. rows: [{label, key, values: [n…], color?, text?}];
  // series: [{name, color}]; stacked: parts side by side in one bar, else grouped bars.
  function barChart({ title, rows, series, stacked = false, max, format = num, width = 640 }) {
    const figure = el("figure", { class: "bars" });
    if (!rows.length) {
      figure.append(el("p", { class: "empty" }, "No data yet."));
      return figure;
    }
    if (series.length > 1) {
      const legend = el("ul", { class: "legend" });
      series.forEach((s, i) => {
        const swatch = el("i", { "aria-hidden": "true" });
        swatch.style.background = s.color || SERIES[i % SERIES.length];
        legend.append(el("li", {}, swatch, s.name));
      });
      figure.append(legend);
    }
    const labelW = Math.min(200, Math.round(width * 0.36)), valueW = stacked ? 140 : 96;
    const barArea = Math.max(40, width - labelW - valueW);
    const barH = stacked ? 18 : 13, gap = 10;
    const rowH = stacked ? barH + gap : barH * series.length + gap;
    const height = rows.length * rowH + 6;
    const sum = (r) => r.values.reduce((a, b) => a + (b || 0), 0);
    const top = max ?? Math.max(...rows.map((r) => (stacked ? sum(r) : Math.max(...r.values.map((v) => v || 0)))));
    const scale = (v) => ((v || 0) / (top > 0 ? top : 1)) * barArea;
    const id = `chart-${++uid}`;
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
                              "aria-labelledby": `${id}-t ${id}-d`, "data-chart": title });
    root.append(svg("title", { id: `${id}-t` }, title));
    root.append(svg("desc", { id: `${id}-d` }, rows.map((r) => `${r.label}: ${
      r.values.map((v, i) => (series.length > 1 ? `${series[i].name} ` : "") + format(v)).join(", ")
    }`).join("; ")));
    root.append(svg("line", { class: "axis", x1: labelW, x2: labelW, y1: 0, y2: height }));
    rows.forEach((row, r) => {
      const y = r * rowH + gap / 2;
      const fits = Math.max(6, Math.floor((labelW - 12) / 7.2));  // characters at 12px
      root.append(svg("text", { x: labelW - 8, y: y + (rowH - gap) / 2 + 4, "text-anchor": "end" },
                      row.label.length > fits ? `${row.label.slice(0, fits - 1)}…` : row.label));
      let x = labelW;
      row.values.forEach((value, i) => {
        const w = scale(value);
        const by = stacked ? y : y + i * barH;
        const rect = svg("rect", { x, y: by, width: Math.max(w, value ? 1 : 0), height: barH - 2,
                                   rx: 2, "data-label": row.key ?? row.label,
                                   "data-series": series[i].name, "data-value": value ?? "" });
        rect.style.fill = row.color || series[i].color || SERIES[i % SERIES.length];
        rect.append(svg("title", {}, `${row.label} · ${series[i].name}: ${format(value)}`));
        root.append(rect);
        if (stacked) {
          x += w;
        } else {
          root.append(svg("text", { class: "value", x: labelW + w + 6, y: by + barH - 4 },
                          format(value)));
        }
      });
      if (stacked) {
        root.append(svg("text", { class: "value", x: x + 6, y: y + barH - 4 },
                        row.text ?? format(sum(row))));
      }
    });
    figure.append(root);
    return figure;
  }

  // A table; rows: [{key, cells: [..]}], the first cell is the row header.
  function table(caption, headers, rows, keyName) {
    const head = el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h)));
    const body = el("tbody");
    for (const row of rows) {
      const tr = el("tr", keyName ? { [`data-${keyName}`]: row.key } : {});
      row.cells.forEach((cell, i) => {
        const field = row.fields ? row.fields[i] : null;
        tr.append(i === 0 ? el("th", { scope: "row" }, cell)
                          : el("td", field ? { "data-field": field } : {}, cell));
      });
      body.append(tr);
    }
    return el("table", {}, el("caption", {}, caption), el("thead", {}, head), body);
  }

  // Charts are drawn at the pixel width of their card, so text stays at its CSS size.
  const chartWidth = (sectionId) =>
    Math.max(260, document.querySelector(`#${sectionId} .chart`).clientWidth || 640);

  function fill(sectionId, ...parts) {
    const section = document.getElementById(sectionId);
    const [chart, tables] = [section.querySelector(".chart"), section.querySelector(".table")];
    chart.replaceChildren(...parts.filter((p) => p.tagName === "FIGURE"));
    tables.replaceChildren(...parts.filter((p) => p.tagName !== "FIGURE"));
  }

  // ---------------------------------------------------------------- sections
  function kpis(d) {
    const meeting = d.conversion.stages.find((s) => s.stage === "meeting");
    const items = [
      ["Leads", num(d.leads_total), "leads"],
      ["Avg processing / lead", ms(d.processing.per_lead_ms.mean), "processing"],
      ["Step error rate", pct(d.errors.error_rate), "error-rate"],
      ["Routing success", pct(d.routing.success_rate), "routing-success"],
      ["Median first touch", dur(d.first_touch.seconds.p50), "first-touch"],
      ["SLA breaches", `${num(d.sla.breached)} (${pct(d.sla.breach_rate)})`, "sla-breaches"],
      ["Lead → meeting", pct(meeting ? meeting.of_leads : null), "lead-meeting"],
      ["Awaiting follow-up", num(d.backlog.awaiting_followup), "awaiting"],
    ];
    document.getElementById("kpis").replaceChildren(...items.map(([label, value, key]) =>
      el("div", { "data-kpi": key }, el("dt", {}, label), el("dd", {}, value))));
  }

  function processing(d) {
    const rows = [{ label: "Per lead (all steps)", key: "per_lead", stat: d.processing.per_lead_ms },
                  ...d.processing.agents.map((a) => ({ label: a.agent, key: a.agent, stat: a.duration_ms }))];
    fill("processing",
      barChart({ width: chartWidth("processing"), title: "Processing time per lead and per agent (ms)", format: ms,
                 series: [{ name: "mean" }, { name: "p95" }],
                 rows: rows.filter((r) => r.stat.count).map((r) => ({ label: r.label, key: r.key,
                                                                       values: [r.stat.mean, r.stat.p95] })) }),
      table("Processing time", ["", "timed", "mean", "median", "p95", "max"],
            rows.map((r) => ({ key: r.key, fields: [null, "count", "mean", "p50", "p95", "max"],
                               cells: [r.label, num(r.stat.count), ms(r.stat.mean), ms(r.stat.p50),
                                       ms(r.stat.p95), ms(r.stat.max)] })), "row"));
  }

  function success(d) {
    const agents = d.processing.agents;
    fill("success",
      barChart({ width: chartWidth("success"), title: "Success rate by agent", format: pct, max: 1, series: [{ name: "success rate" }],
                 rows: agents.filter((a) => a.runs).map((a) => ({
                   label: a.agent, key: a.agent, values: [a.success_rate],
                   color: a.success_rate >= 0.95 ? "var(--ok)" : a.success_rate >= 0.8 ? "var(--warn)" : "var(--bad)" })) }),
      table("Steps per agent", ["agent", "steps", "succeeded", "failed", "success rate"],
            agents.map((a) => ({ key: a.agent, fields: [null, "runs", "succeeded", "failed", "success_rate"],
                                 cells: [a.agent, num(a.runs), num(a.succeeded), num(a.failed), pct(a.success_rate)] })),
            "agent"));
  }

  function queues(d) {
    const b = d.backlog;
    const limit = `older than ${dur(b.stale_after_hours * 3600)}`;
    const rows = b.queues.map((q) => ({ label: words(q.queue), key: q.queue, values: [q.open - q.stale, q.stale] }));
    const other = [["awaiting_followup", "awaiting follow-up", b.awaiting_followup],
                   ["in_progress", "in progress", b.in_progress],
                   ["outbox_pending", "notifications pending", b.outbox_pending],
                   ["outbox_failed", "notifications failed", b.outbox_failed]];
    fill("queues",
      barChart({ width: chartWidth("queues"), title: "Open queue items", stacked: true,
                 series: [{ name: "recent", color: "var(--c2)" }, { name: limit, color: "var(--c1)" }],
                 rows: [...rows, ...other.map(([key, label, n]) => ({ label, key, values: [n, 0] }))] }),
      table("Queues", ["queue", "open", limit, "oldest item"],
            b.queues.map((q) => ({ key: q.queue, fields: [null, "open", "stale", "oldest"],
                                   cells: [words(q.queue), num(q.open), num(q.stale), hours(q.oldest_age_hours)] })),
            "queue"),
      table("Other backlogs", ["backlog", "items"],
            other.map(([key, label, n]) => ({ key, fields: [null, "count"], cells: [label, num(n)] })), "backlog"));
  }

  function errors(d) {
    const e = d.errors;
    const rows = [...Object.entries(e.by_type).map(([type, n]) => ({ key: type, label: words(type), values: [n], source: "failed step" })),
                  ...Object.entries(e.llm_fallbacks).filter(([, n]) => n).map(([flag, n]) => ({ key: flag, label: `LLM: ${words(flag)}`, values: [n], source: "LLM fallback (rules decided)", color: "var(--warn)" }))];
    fill("errors",
      barChart({ width: chartWidth("errors"), title: "Errors by type", series: [{ name: "count", color: "var(--bad)" }], rows }),
      table(`Step error rate ${pct(e.error_rate)} (${num(e.failed_steps)} of ${num(e.steps)} steps); leads with a failed step ${pct(e.lead_error_rate)} (${num(e.leads_with_errors)})`,
            ["type", "source", "count"],
            rows.length ? rows.map((r) => ({ key: r.key, fields: [null, "source", "count"], cells: [r.label, r.source, num(r.values[0])] }))
                        : [{ key: "none", cells: ["no errors", dash, "0"] }], "type"));
  }

  function qualification(d) {
    const q = d.qualification;
    fill("qualification",
      barChart({ width: chartWidth("qualification"), title: "Leads per qualification tier", series: [{ name: "leads" }],
                 rows: q.tiers.map((t) => ({ label: t.tier, key: t.tier, values: [t.leads], color: TIER_COLOR[t.tier] })) }),
      table(`${num(q.scored)} leads scored, ${num(q.unscored)} not scored`, ["tier", "leads", "share", "avg BANT"],
            q.tiers.map((t) => ({ key: t.tier, fields: [null, "leads", "share", "avg_bant"],
                                  cells: [t.tier, num(t.leads), pct(t.share), t.avg_bant == null ? dash : t.avg_bant.toFixed(1)] })),
            "tier"));
  }

  function enrichment(d) {
    const e = d.enrichment;
    const fields = Object.entries(e.field_fill);
    fill("enrichment",
      barChart({ width: chartWidth("enrichment"), title: "Share of enriched leads with each field", format: pct, max: 1, series: [{ name: "filled" }],
                 rows: fields.map(([f, v]) => ({ label: words(f), key: f, values: [v] })) }),
      table("Enrichment summary", ["measure", "value"], [
        { key: "enriched", fields: [null, "value"], cells: ["leads enriched", num(e.enriched)] },
        { key: "kb_match_rate", fields: [null, "value"], cells: ["knowledge-base match rate", `${pct(e.kb_match_rate)} (${num(e.kb_matched)})`] },
        { key: "limited_data", fields: [null, "value"], cells: ["limited data (unknown company)", num(e.limited_data)] },
        { key: "completeness", fields: [null, "value"], cells: ["mean completeness", pct(e.completeness)] },
        ...Object.entries(e.quality).map(([k, v]) => ({ key: k, fields: [null, "value"], cells: [`${words(k)} (1–5)`, v.toFixed(2)] })),
      ], "measure"),
      table("Field fill rate", ["field", "filled"],
            fields.map(([f, v]) => ({ key: f, fields: [null, "fill"], cells: [words(f), pct(v)] })), "field"));
  }

  function routing(d) {
    const r = d.routing;
    const s = r.speed_to_lead_s;
    fill("routing",
      barChart({ width: chartWidth("routing"), title: "Assignments: rep versus manager escalation", series: [{ name: "assignments" }],
                 rows: [{ label: "assigned to a rep", key: "rep", values: [r.to_rep], color: "var(--ok)" },
                        { label: "escalated to a manager", key: "manager", values: [r.to_manager], color: "var(--bad)" }] }),
      barChart({ width: chartWidth("routing"), title: "Assignments by routing rule", series: [{ name: "assignments" }],
                 rows: Object.entries(r.by_rule).map(([rule, n]) => ({ label: words(rule), key: rule, values: [n] })) }),
      table(`Routing success ${pct(r.success_rate)}; speed-to-lead median ${dur(s.p50)}, p95 ${dur(s.p95)}`,
            ["assignment", "count"],
            [{ key: "rep", fields: [null, "count"], cells: ["assigned to a rep", num(r.to_rep)] },
             { key: "manager", fields: [null, "count"], cells: ["escalated to a manager", num(r.to_manager)] },
             ...Object.entries(r.by_rule).map(([rule, n]) => ({ key: `rule:${rule}`, fields: [null, "count"], cells: [`rule: ${words(rule)}`, num(n)] }))],
            "routing"));
  }

  function firstTouch(d) {
    const f = d.first_touch;
    const rows = [["all", f.seconds], ...Object.entries(f.by_tier)];
    fill("first-touch",
      barChart({ width: chartWidth("first-touch"), title: "Response time to first touch", format: dur, series: [{ name: "mean" }, { name: "p95" }],
                 rows: Object.entries(f.by_tier).map(([tier, s]) => ({ label: tier, key: tier, values: [s.mean, s.p95] })) }),
      table(`${num(f.touched)} leads touched`, ["tier", "touched", "mean", "median", "p95", "max"],
            rows.map(([tier, s]) => ({ key: tier, fields: [null, "count", "mean", "p50", "p95", "max"],
                                       cells: [tier, num(s.count), dur(s.mean), dur(s.p50), dur(s.p95), dur(s.max)] })),
            "tier"));
  }

  function sla(d) {
    const s = d.sla;
    fill("sla",
      barChart({ width: chartWidth("sla"), title: "SLA clocks per tier", stacked: true,
                 series: [{ name: "met or running", color: "var(--ok)" }, { name: "touched late", color: "var(--warn)" },
                          { name: "overdue, untouched", color: "var(--bad)" }],
                 rows: s.by_tier.map((t) => ({ label: t.tier, key: t.tier, values: [t.met, t.breached_late, t.breached_overdue],
                                               text: `${t.breached} breached of ${t.clocks}` })) }),
      table(`${num(s.breached)} breaches of ${num(s.clocks)} clocks (${pct(s.breach_rate)}); ${num(s.escalated)} escalated`,
            ["tier", "clocks", "met or running", "late", "overdue", "breached", "escalated"],
            s.by_tier.map((t) => ({ key: t.tier, fields: [null, "clocks", "met", "late", "overdue", "breached", "escalated"],
                                    cells: [t.tier, num(t.clocks), num(t.met), num(t.breached_late), num(t.breached_overdue),
                                            num(t.breached), num(t.escalated)] })),
            "tier"));
  }

  function conversion(d) {
    const stages = d.conversion.stages;
    fill("conversion",
      barChart({ width: chartWidth("conversion"), title: "Conversion funnel", series: [{ name: "leads" }],
                 rows: stages.map((s) => ({ label: s.label, key: s.stage, values: [s.leads] })) }),
      table("Funnel", ["stage", "leads", "of previous", "of all leads"],
            stages.map((s) => ({ key: s.stage, fields: [null, "leads", "of_previous", "of_leads"],
                                 cells: [s.label, num(s.leads), pct(s.of_previous), pct(s.of_leads)] })),
            "stage"));
  }

  function workload(d) {
    const reps = d.reps;
    fill("workload",
      barChart({ width: chartWidth("workload"), title: "Rep load ratio (open leads / capacity)", format: pct, series: [{ name: "load" }],
                 max: Math.max(1, ...reps.map((r) => r.load_ratio)),
                 rows: reps.map((r) => ({ label: `${r.name} (${r.region})`, key: r.rep_id, values: [r.load_ratio],
                                          color: r.load_ratio > 0.9 ? "var(--bad)" : r.load_ratio > 0.7 ? "var(--warn)" : "var(--c1)" })) }),
      table("Rep workload", ["rep", "region", "open", "capacity", "load", "assigned (all time)", "SLA breaches", "available"],
            reps.map((r) => ({ key: r.rep_id, fields: [null, "region", "open", "capacity", "load", "assigned", "breaches", "available"],
                               cells: [`${r.name} (${r.rep_id})`, r.region, num(r.open_leads), num(r.capacity), pct(r.load_ratio),
                                       num(r.assigned_total), num(r.sla_breaches), r.available ? "yes" : "no"] })),
            "rep"));
  }

  const SECTIONS = [kpis, processing, success, queues, errors, qualification, enrichment, routing,
                    firstTouch, sla, conversion, workload];

  // ---------------------------------------------------------------- refresh loop
  let lastData = null;
  function draw(data) {
    lastData = data;
    for (const section of SECTIONS) section(data);
  }
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => lastData && draw(lastData), 200);
  });

  const status = document.getElementById("status");
  async function load() {
    try {
      const response = await fetch(DATA_URL, { cache: "no-store", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.json();
      draw(data);
      loads += 1;
      document.body.dataset.loads = String(loads);
      const at = new Date(data.generated_at);
      document.getElementById("updated").textContent =
        `Updated ${at.toLocaleString("en-GB", { timeZone: "UTC" })} UTC · refreshes every ${refreshSeconds} s`;
      status.textContent = "";
      status.className = "";
    } catch (error) {
      status.textContent = `Could not refresh: ${error.message}`;
      status.className = "error";
      console.error("dashboard refresh failed", error);
    }
  }
  async function loop() {
    await load();
    window.setTimeout(loop, refreshSeconds * 1000);
  }
  loop();
})();
