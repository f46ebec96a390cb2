// leadflow sales-ops dashboard: fetches dashboard/data.json and draws every SPEC §9 metric
// as a Chart.js chart (vendored: dashboard/static/chart.umd.min.js) with a table of the same
// numbers under it, plus the open manual-review queue. No network beyond this server. Text
// from the data only ever reaches the page through text nodes (never innerHTML); on a
// refresh the charts are updated in place, not recreated.
"use strict";

(() => {
  const params = new URLSearchParams(window.location.search);
  const refreshSeconds = Math.max(1, Number(params.get("refresh")) || 30);
  // The data's URL without the page's credentials: a page opened with the key in its
  // address (user:key@host/dashboard) may not fetch() a URL that has them (browsers refuse
  // it), and needs not: the browser sends the Basic credentials the page was loaded with.
  const dataUrl = new URL("dashboard/data.json", document.baseURI);
  dataUrl.username = "";
  dataUrl.password = "";
  const DATA_URL = dataUrl.href;
  const SERIES = ["--c1", "--c2"];
  const TIER_COLOR = { hot: "--hot", warm: "--warm", cold: "--cold", unqualified: "--unqualified" };
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  let loads = 0;
  // ---------------------------------------------------------------- formatting
  // Numbers and times in the browser's own locale and time zone (a time also carries
  // its ISO 8601 form in a <time datetime> element).
  const dash = "—";
  const num = (v) => (v == null ? dash : Number(v).toLocaleString());
  const when = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit",
    timeZoneName: "short" });
  const time = (iso) => el("time", { datetime: iso }, when.format(new Date(iso)));
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

  // Canvas cannot read CSS variables, so colours named "--x" are looked up in the style sheet.
  const rootStyle = getComputedStyle(document.documentElement);
  const color = (name) => (String(name).startsWith("--")
    ? rootStyle.getPropertyValue(name).trim() || "#888" : name);
  Chart.defaults.font.family = rootStyle.fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = color("--muted");
  Chart.defaults.borderColor = color("--line");

  const charts = new Map();  // chart key → its Chart, kept across refreshes

  // A horizontal bar chart in a section's .chart box, created once and then updated in place.
  // labels: row labels; series: [{name, data: [n…], color: "--var" | ["--var"…]}];
  // stacked: the series' parts side by side in one bar, else grouped bars.
  function barChart(sectionId, key, { title, labels, series, stacked = false, max,
                                        format = num }) {
    const box = document.querySelector(`#${sectionId} .chart`);
    let figure = box.querySelector(`figure[data-chart="${key}"]`);
    if (!figure) {
      figure = el("figure", { "data-chart": key },
                  el("figcaption", {}, title),
                  el("div", { class: "frame" }, el("canvas", { role: "img", "data-chart": key })),
                  el("p", { class: "empty", hidden: "" }, "No data yet."));
      box.append(figure);
    }
    const canvas = figure.querySelector("canvas");
    const rowHeight = stacked || series.length === 1 ? 26 : 12 + 13 * series.length;
    figure.querySelector(".frame").style.height =
      `${Math.max(1, labels.length) * rowHeight + 34 + (series.length > 1 ? 26 : 0)}px`;
    figure.querySelector(".empty").hidden = labels.length > 0;
    const described = labels.map((label, row) => `${label}: ${series.map((s) =>
      (series.length > 1 ? `${s.name} ` : "") + format(s.data[row])).join(", ")}`).join("; ");
    canvas.setAttribute("aria-label", `${title}. ${described || "No data yet."}`);

    const datasets = series.map((s, i) => ({
      label: s.name, data: s.data.map((v) => v ?? 0), borderRadius: 2, maxBarThickness: 22,
      backgroundColor: Array.isArray(s.color) ? s.color.map(color)
                                              : color(s.color || SERIES[i % SERIES.length]),
    }));
    const existing = charts.get(key);
    if (existing) {
      existing.data.labels = labels;
      datasets.forEach((dataset, i) => {
        if (existing.data.datasets[i]) Object.assign(existing.data.datasets[i], dataset);
        else existing.data.datasets.push(dataset);
      });
      existing.data.datasets.length = datasets.length;
      existing.options.scales.x.max = max;
      existing.update();
      return existing;
    }
    const chart = new Chart(canvas, {
      type: "bar",
      data: { labels, datasets },
      options: {
        indexAxis: "y", responsive: true, maintainAspectRatio: false,
        animation: reducedMotion ? false : { duration: 300 },
        plugins: {
          legend: { display: series.length > 1, position: "top", align: "start",
                    labels: { boxWidth: 12, boxHeight: 12 } },
          tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${format(ctx.raw)}` } },
        },
        scales: {
          x: { stacked, beginAtZero: true, max, ticks: { callback: (v) => format(v), maxTicksLimit: 6 } },
          y: { stacked, grid: { display: false },
               ticks: { autoSkip: false,
                        callback(value) {
                          const label = String(this.getLabelForValue(value));
                          return label.length > 28 ? `${label.slice(0, 27)}…` : label;
                        } } },
        },
      },
    });
    charts.set(key, chart);
    return chart;
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

  const tables = (sectionId, ...parts) =>
    document.querySelector(`#${sectionId} .table`).replaceChildren(...parts);

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
    const timed = rows.filter((r) => r.stat.count);
    barChart("processing", "processing", {
      title: "Processing time per lead and per agent", format: ms, labels: timed.map((r) => r.label),
      series: [{ name: "mean", data: timed.map((r) => r.stat.mean) },
               { name: "p95", data: timed.map((r) => r.stat.p95) }] });
    tables("processing",
      table("Processing time", ["", "timed", "mean", "median", "p95", "max"],
            rows.map((r) => ({ key: r.key, fields: [null, "count", "mean", "p50", "p95", "max"],
                               cells: [r.label, num(r.stat.count), ms(r.stat.mean), ms(r.stat.p50),
                                       ms(r.stat.p95), ms(r.stat.max)] })), "row"));
  }

  function success(d) {
    const agents = d.processing.agents;
    const ran = agents.filter((a) => a.runs);
    barChart("success", "success", {
      title: "Success rate by agent", format: pct, max: 1, labels: ran.map((a) => a.agent),
      series: [{ name: "success rate", data: ran.map((a) => a.success_rate),
                 color: ran.map((a) => (a.success_rate >= 0.95 ? "--ok" : a.success_rate >= 0.8 ? "--warn" : "--bad")) }] });
    tables("success",
      table("Steps per agent", ["agent", "steps", "succeeded", "failed", "success rate"],
            agents.map((a) => ({ key: a.agent, fields: [null, "runs", "succeeded", "failed", "success_rate"],
                                 cells: [a.agent, num(a.runs), num(a.succeeded), num(a.failed), pct(a.success_rate)] })),
            "agent"));
  }

  function queues(d) {
    const b = d.backlog;
    const limit = `older than ${dur(b.stale_after_hours * 3600)}`;
    const other = [["awaiting_followup", "awaiting follow-up", b.awaiting_followup],
                   ["in_progress", "in progress", b.in_progress],
                   ["outbox_pending", "notifications pending", b.outbox_pending],
                   ["outbox_failed", "notifications failed", b.outbox_failed]];
    const rows = [...b.queues.map((q) => ({ label: words(q.queue), values: [q.open - q.stale, q.stale] })),
                  ...other.map(([, label, n]) => ({ label, values: [n, 0] }))];
    barChart("queues", "queues", {
      title: "Open queue items and other backlogs", stacked: true, labels: rows.map((r) => r.label),
      series: [{ name: "recent", color: "--c2", data: rows.map((r) => r.values[0]) },
               { name: limit, color: "--c1", data: rows.map((r) => r.values[1]) }] });
    tables("queues",
      table("Queues", ["queue", "open", limit, "oldest item"],
            b.queues.map((q) => ({ key: q.queue, fields: [null, "open", "stale", "oldest"],
                                   cells: [words(q.queue), num(q.open), num(q.stale), hours(q.oldest_age_hours)] })),
            "queue"),
      table("Other backlogs", ["backlog", "items"],
            other.map(([key, label, n]) => ({ key, fields: [null, "count"], cells: [label, num(n)] })), "backlog"));
  }

  function errors(d) {
    const e = d.errors;
    const rows = [...Object.entries(e.by_type).map(([type, n]) => ({ key: type, label: words(type), n, source: "failed step", color: "--bad" })),
                  ...Object.entries(e.llm_fallbacks).filter(([, n]) => n).map(([flag, n]) => ({ key: flag, label: `LLM: ${words(flag)}`, n, source: "LLM fallback (rules decided)", color: "--warn" }))];
    barChart("errors", "errors", {
      title: "Errors by type", labels: rows.map((r) => r.label),
      series: [{ name: "count", data: rows.map((r) => r.n), color: rows.map((r) => r.color) }] });
    tables("errors",
      table(`Step error rate ${pct(e.error_rate)} (${num(e.failed_steps)} of ${num(e.steps)} steps); leads with a failed step ${pct(e.lead_error_rate)} (${num(e.leads_with_errors)})`,
            ["type", "source", "count"],
            rows.length ? rows.map((r) => ({ key: r.key, fields: [null, "source", "count"], cells: [r.label, r.source, num(r.n)] }))
                        : [{ key: "none", cells: ["no errors", dash, "0"] }], "type"));
  }

  function qualification(d) {
    const q = d.qualification;
    barChart("qualification", "qualification", {
      title: "Leads per qualification tier", labels: q.tiers.map((t) => t.tier),
      series: [{ name: "leads", data: q.tiers.map((t) => t.leads),
                 color: q.tiers.map((t) => TIER_COLOR[t.tier] || "--c1") }] });
    tables("qualification",
      table(`${num(q.scored)} leads scored, ${num(q.unscored)} not scored`, ["tier", "leads", "share", "avg BANT"],
            q.tiers.map((t) => ({ key: t.tier, fields: [null, "leads", "share", "avg_bant"],
                                  cells: [t.tier, num(t.leads), pct(t.share), t.avg_bant == null ? dash : t.avg_bant.toFixed(1)] })),
            "tier"));
  }

  function enrichment(d) {
    const e = d.enrichment;
    const fields = Object.entries(e.field_fill);
    barChart("enrichment", "enrichment", {
      title: "Share of enriched leads with each field", format: pct, max: 1,
      labels: fields.map(([f]) => words(f)), series: [{ name: "filled", data: fields.map(([, v]) => v) }] });
    tables("enrichment",
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
    const rules = Object.entries(r.by_rule);
    barChart("routing", "routing-kind", {
      title: "Assignments: rep versus manager escalation",
      labels: ["assigned to a rep", "escalated to a manager"],
      series: [{ name: "assignments", data: [r.to_rep, r.to_manager], color: ["--ok", "--bad"] }] });
    barChart("routing", "routing-rule", {
      title: "Assignments by routing rule", labels: rules.map(([rule]) => words(rule)),
      series: [{ name: "assignments", data: rules.map(([, n]) => n) }] });
    tables("routing",
      table(`Routing success ${pct(r.success_rate)}; speed-to-lead median ${dur(s.p50)}, p95 ${dur(s.p95)}`,
            ["assignment", "count"],
            [{ key: "rep", fields: [null, "count"], cells: ["assigned to a rep", num(r.to_rep)] },
             { key: "manager", fields: [null, "count"], cells: ["escalated to a manager", num(r.to_manager)] },
             ...rules.map(([rule, n]) => ({ key: `rule:${rule}`, fields: [null, "count"], cells: [`rule: ${words(rule)}`, num(n)] }))],
            "routing"));
  }

  function firstTouch(d) {
    const f = d.first_touch;
    const tiers = Object.entries(f.by_tier);
    barChart("first-touch", "first-touch", {
      title: "Response time to first touch", format: dur, labels: tiers.map(([tier]) => tier),
      series: [{ name: "mean", data: tiers.map(([, s]) => s.mean) },
               { name: "p95", data: tiers.map(([, s]) => s.p95) }] });
    tables("first-touch",
      table(`${num(f.touched)} leads touched`, ["tier", "touched", "mean", "median", "p95", "max"],
            [["all", f.seconds], ...tiers].map(([tier, s]) => ({
              key: tier, fields: [null, "count", "mean", "p50", "p95", "max"],
              cells: [tier, num(s.count), dur(s.mean), dur(s.p50), dur(s.p95), dur(s.max)] })),
            "tier"));
  }

  function sla(d) {
    const s = d.sla;
    barChart("sla", "sla", {
      title: "SLA clocks per tier", stacked: true, labels: s.by_tier.map((t) => t.tier),
      series: [{ name: "met or running", color: "--ok", data: s.by_tier.map((t) => t.met) },
               { name: "touched late", color: "--warn", data: s.by_tier.map((t) => t.breached_late) },
               { name: "overdue, untouched", color: "--bad", data: s.by_tier.map((t) => t.breached_overdue) }] });
    tables("sla",
      table(`${num(s.breached)} breaches of ${num(s.clocks)} clocks (${pct(s.breach_rate)}); ${num(s.escalated)} escalated`,
            ["tier", "clocks", "met or running", "late", "overdue", "breached", "escalated"],
            s.by_tier.map((t) => ({ key: t.tier, fields: [null, "clocks", "met", "late", "overdue", "breached", "escalated"],
                                    cells: [t.tier, num(t.clocks), num(t.met), num(t.breached_late), num(t.breached_overdue),
                                            num(t.breached), num(t.escalated)] })),
            "tier"));
  }

  function conversion(d) {
    const stages = d.conversion.stages;
    barChart("conversion", "conversion", {
      title: "Conversion funnel", labels: stages.map((s) => s.label),
      series: [{ name: "leads", data: stages.map((s) => s.leads) }] });
    tables("conversion",
      table("Funnel", ["stage", "leads", "of previous", "of all leads"],
            stages.map((s) => ({ key: s.stage, fields: [null, "leads", "of_previous", "of_leads"],
                                 cells: [s.label, num(s.leads), pct(s.of_previous), pct(s.of_leads)] })),
            "stage"));
  }

  function workload(d) {
    const reps = d.reps;
    barChart("workload", "workload", {
      title: "Rep load ratio (open leads / capacity)", format: pct,
      max: Math.max(1, ...reps.map((r) => r.load_ratio)), labels: reps.map((r) => `${r.name} (${r.region})`),
      series: [{ name: "load", data: reps.map((r) => r.load_ratio),
                 color: reps.map((r) => (r.load_ratio > 0.9 ? "--bad" : r.load_ratio > 0.7 ? "--warn" : "--c1")) }] });
    tables("workload",
      table("Rep workload", ["rep", "region", "open", "capacity", "load", "assigned (all time)", "SLA breaches", "available"],
            reps.map((r) => ({ key: r.rep_id, fields: [null, "region", "open", "capacity", "load", "assigned", "breaches", "available"],
                               cells: [`${r.name} (${r.rep_id})`, r.region, num(r.open_leads), num(r.capacity), pct(r.load_ratio),
                                       num(r.assigned_total), num(r.sla_breaches), r.available ? "yes" : "no"] })),
            "rep"));
  }

  // The open manual-review items: CRM text, so text nodes only (el() never parses HTML).
  function review(d) {
    const q = d.review_queue;
    const now = new Date(d.generated_at);
    const since = (iso) => el("span", {}, time(iso),
                              ` (${dur((now - new Date(iso)) / 1000)} ago)`);
    const shown = q.items.length < q.open ? `, the newest ${num(q.items.length)} shown` : "";
    tables("review",
      table(`${num(q.open)} open item${q.open === 1 ? "" : "s"}${shown}`,
            ["lead", "contact", "company", "reason", "waiting since"],
            q.items.length
              ? q.items.map((i) => ({ key: i.lead_id, fields: [null, "contact", "company", "reason", "since"],
                                      cells: [i.lead_id, i.contact ?? dash, i.company ?? dash, i.reason, since(i.since)] }))
              : [{ key: "none", cells: ["no open items", dash, dash, dash, dash] }],
            "lead"));
  }

  // The reps' open leads by the promoted model's priority (leadflow/metrics/priority.py).
  function priorityQueue(d) {
    const q = d.priority_queue;
    const counts = ["A", "B", "C", "D", "none"].map((p) => `${p}: ${num(q.by_priority[p] ?? 0)}`).join(" · ");
    const shown = q.items.length < q.open ? `, the first ${num(q.items.length)} shown` : "";
    tables("priority",
      table(`${num(q.open)} open rep lead${q.open === 1 ? "" : "s"}${shown} (${counts})`,
            ["lead", "rep", "tier", "priority", "conversion", "status", "arrived"],
            q.items.length
              ? q.items.map((i) => ({ key: i.lead_id, fields: [null, "rep_id", "tier", "priority", "probability", "status", "since"],
                                      cells: [i.lead_id, i.rep_id ?? dash, i.tier ?? dash, i.priority ?? dash,
                                              i.probability == null ? dash : pct(i.probability), i.status ?? dash,
                                              i.since ? time(i.since) : dash] }))
              : [{ key: "none", cells: ["no open rep leads", dash, dash, dash, dash, dash, dash] }],
            "lead"));
  }

  const SECTIONS = [kpis, processing, success, queues, errors, qualification, enrichment, routing,
                    firstTouch, sla, conversion, workload, priorityQueue, review];

  // ---------------------------------------------------------------- refresh loop
  function draw(data) {
    for (const section of SECTIONS) section(data);
  }

  const status = document.getElementById("status");
  async function load() {
    try {
      const response = await fetch(DATA_URL, { cache: "no-store", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.json();
      draw(data);
      loads += 1;
      document.body.dataset.loads = String(loads);
      document.getElementById("updated").replaceChildren(
        "Updated ", time(data.generated_at), ` · refreshes every ${refreshSeconds} s`);
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
