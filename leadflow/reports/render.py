"""The weekly report as a document (sections of paragraphs, tables and charts), written once
and rendered twice: Markdown (the tables, for a repository or a ticket) and one
self-contained HTML page (the same tables plus inline SVG plots, no external resource)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from leadflow.reports import svg
from leadflow.reports.weekly import DIMENSIONS, STAGES, Stat, WeeklyReport

# Trend tables by dimension list at most this many values (the largest over the weeks).
TREND_VALUES = 10

Cell = str | int | float | None
WAITS = {"speed_to_lead_s": "arrival → rep (speed to lead)",
         "first_touch_s": "arrival → first touch"}


@dataclass
class Table:
    headers: Sequence[str]
    rows: list[Sequence[Cell]]


@dataclass
class Section:
    title: str
    level: int = 2
    blocks: list[str | Table | tuple[str, str]] = field(default_factory=list)  # (svg, caption)


def _cell(value: Cell) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _share(part: int, whole: int) -> str:
    return _pct(part / whole if whole else None)


def document(r: WeeklyReport) -> list[Section]:
    return [_head(r), _funnel(r), *_trend(r), *_by_dimension(r), _bottlenecks(r), _errors(r),
            _sla(r), _tiers(r), _calibration(r)]


def _head(r: WeeklyReport) -> Section:
    first, last = r.weeks[0], r.week
    return Section(f"Weekly review {r.week.label}", 1, [
        f"Leads that arrived {r.week.start:%a %Y-%m-%d} to "
        f"{r.week.end:%a %Y-%m-%d} 00:00 UTC, outcomes as they stand at "
        f"{r.as_of:%Y-%m-%d %H:%M} UTC. Trends cover {first.label} to {last.label}. "
        "A lead counts in the week it arrived (its cohort) at every stage it has reached "
        "so far, so the newest weeks are still filling up."])


def _funnel(r: WeeklyReport) -> Section:
    rows: list[Sequence[Cell]] = []
    for i, stage in enumerate(STAGES):
        n = r.funnel[stage]
        # lost is not a step after won: no "of previous" for it
        rows.append((stage, n, _share(n, r.funnel[STAGES[i - 1]]) if 0 < i < 7 else "—",
                     _share(n, r.funnel["captured"]), r.previous[stage]))
    return Section("Funnel", 2, [
        f"qualified = tier {', '.join(r.worked_tiers)} (the tiers routing hands to a rep); "
        "routed = assigned to a rep; contacted / replied / meeting = the furthest engagement "
        "event reached (a later one implies the earlier); won / lost = closed.",
        Table(("stage", "leads", "of previous", "of captured", "previous week"), rows),
        (svg.bars([(s, float(r.funnel[s])) for s in STAGES], f"funnel {r.week.label}"),
         "the week's funnel")])


def _trend(r: WeeklyReport) -> list[Section]:
    labels = [w.label for w in r.weeks]
    rows: list[Sequence[Cell]] = [(w, *(r.trend[w][s] for s in STAGES)) for w in labels]
    out = [Section("Trend", 2, [
        Table(("week", *STAGES), rows),
        (svg.lines(labels, {s: [float(r.trend[w][s]) for w in labels]
                            for s in ("captured", "routed", "contacted", "meeting", "won")},
                   "funnel by week"), "the funnel's stages by week")])]
    for dim in DIMENSIONS:
        weeks = r.trend_by_dimension[dim]
        totals: dict[str, int] = {}
        for per in weeks.values():
            for value, f in per.items():
                totals[value] = totals.get(value, 0) + f["captured"]
        values = sorted(totals, key=lambda v: (-totals[v], v))[:TREND_VALUES]
        trows: list[Sequence[Cell]] = []
        for value in values:
            cells = []
            for w in labels:
                got = weeks[w].get(value)
                cells.append(f"{got['captured']} / {got['routed']} / {got['meeting']}"
                             if got else "—")
            trows.append((value, *cells))
        note = (f"captured / routed / meeting per week, the {TREND_VALUES} largest values"
                if len(totals) > TREND_VALUES else "captured / routed / meeting per week")
        out.append(Section(f"Trend by {dim}", 3, [note, Table((dim, *labels), trows)]))
    return out


def _by_dimension(r: WeeklyReport) -> list[Section]:
    out = []
    for dim in DIMENSIONS:
        groups = r.by_dimension[dim]
        rows: list[Sequence[Cell]] = [(value, *(f[s] for s in STAGES), _share(f["meeting"],
                                                                            f["captured"]))
                                      for value, f in groups.items()]
        out.append(Section(f"Funnel by {dim}", 2, [
            Table((dim, *STAGES, "meeting rate"), rows)]))
    return out


def _ms(stat: Stat | None) -> Cell:
    return None if stat is None or stat.p95 is None else round(stat.p95)


def _bottlenecks(r: WeeklyReport) -> Section:
    agents = sorted(r.agent_durations, key=lambda a: -(r.agent_durations[a].p95 or 0))
    rows: list[Sequence[Cell]] = [
        (a, s.count, None if s.p50 is None else round(s.p50), _ms(s),
         None if s.max is None else round(s.max), _ms(r.agent_durations_previous.get(a)))
        for a in agents for s in [r.agent_durations[a]]]
    waits: list[Sequence[Cell]] = [
        (WAITS.get(name, name), s.count, None if s.p50 is None else round(s.p50 / 3600, 2),
         None if s.p95 is None else round(s.p95 / 3600, 2))
        for name, s in r.waits.items()]
    ages: list[Sequence[Cell]] = [(q.queue, q.open, q.p95_hours, q.oldest_hours)
                                  for q in r.queue_ages]
    flow: list[Sequence[Cell]] = [(q.queue, q.entered, q.still_open, q.resolved_p95_hours)
                                  for q in r.queue_flow]
    blocks: list[str | Table | tuple[str, str]] = [
        "Step durations of the week's leads per agent (ms, nearest-rank percentiles of every "
        "measured step), slowest p95 first.",
        Table(("agent", "steps", "p50 ms", "p95 ms", "max ms", "p95 ms previous week"), rows)]
    if rows:
        blocks.append((svg.bars([(str(a), float(r.agent_durations[a].p95 or 0))
                                 for a in agents], "p95 step duration (ms)", " ms"),
                       "p95 step duration per agent"))
    blocks += ["Waits of the week's leads (hours): arrival → rep assignment, arrival → first "
               "touch.", Table(("wait", "leads", "p50 h", "p95 h"), waits),
               f"Open queue items at {r.as_of:%Y-%m-%d %H:%M} UTC and their ages (hours).",
               Table(("queue", "open", "p95 age h", "oldest h"), ages),
               "The week's leads by the queue they entered.",
               Table(("queue", "entered", "still open", "p95 h to resolve"), flow)]
    return Section("Bottlenecks", 2, blocks)


def _errors(r: WeeklyReport) -> Section:
    captured = r.funnel["captured"]
    statuses: list[Sequence[Cell]] = [(s, n, _share(n, captured)) for s, n in r.statuses.items()]
    codes: list[Sequence[Cell]] = [(code, n, ", ".join(r.error_examples.get(code, [])))
                                   for code, n in r.error_codes.items()]
    blocks: list[str | Table | tuple[str, str]] = [
        "The week's leads by status (manual_review and escalated need a person).",
        Table(("status", "leads", "share"), statuses),
        "Failed steps by agent and error type (from each lead's stored decisions).",
        Table(("agent/error", "failed steps", "example leads"), codes) if codes
        else "No failed steps.",
        Table(("LLM fallback", "leads"), [(k, n) for k, n in r.llm_fallbacks.items()])
        if r.llm_fallbacks else "No LLM fallbacks."]
    if r.review_reasons:
        blocks += ["Why leads went to manual review.",
                   Table(("reason", "leads"), list(r.review_reasons.items()))]
    return Section("Errors", 2, blocks)


def _sla(r: WeeklyReport) -> Section:
    rows: list[Sequence[Cell]] = [
        (s.rep, s.clocks, s.met, s.late, s.overdue, s.late + s.overdue, _pct(s.breach_rate),
         s.escalated) for s in r.sla]
    return Section("SLA breaches by rep", 2, [
        "Follow-up clocks of the week's leads. Breached = first touched after the deadline "
        "(late), or untouched, still running and past it (overdue).",
        Table(("rep", "clocks", "met", "late", "overdue", "breached", "breach rate",
               "escalated"), rows)])


def _tiers(r: WeeklyReport) -> Section:
    rules = r.rules
    tiers: list[Sequence[Cell]] = [
        (t.tier, t.cut, t.worked, t.converted, _pct(t.rate),
         f"{_pct(t.low)}–{_pct(t.high)}" if t.low is not None else "—") for t in r.tiers]
    bands: list[Sequence[Cell]] = [(b.band, b.tier, b.worked, b.converted, _pct(b.rate))
                                   for b in r.bands]
    findings = [f"- cut {f.cut} ({f.upper}/{f.lower}): **{f.verdict}**: {f.message}"
                for f in r.findings]
    return Section("Conversion by tier", 2, [
        f"Leads of {r.weeks[0].label}–{r.week.label} routed to a rep; converted = reached "
        f"{' or '.join(r.positive_events)}. Intervals: Wilson {rules.confidence:.0%}.",
        Table(("tier", "cut (min total)", "worked", "converted", "rate", "interval"), tiers),
        Table(("score band", "tier", "worked", "converted", "rate"), bands),
        f"The rule: for a cut c between two worked tiers, recommend lowering it when the "
        f"{rules.band_points} points under it convert like the tier above (its rate inside "
        "the band's interval) and above the rest of the tier below (over its interval's upper "
        "end); raising it when the band over it converts like the tier below and under the "
        "rest of the tier above; and flag tiers whose intervals overlap. Every group compared "
        f"needs ≥ {rules.min_leads} leads, else no recommendation.",
        "\n".join(findings) or "No cuts to test."])


def _calibration(r: WeeklyReport) -> Section:
    c = r.calibration
    if c.model_version is None:
        return Section("Model calibration and drift", 2, [c.message])
    rows: list[Sequence[Cell]] = [(f"{b.low:.1f}–{b.high:.1f}", b.leads, b.predicted,
                                   b.observed) for b in c.bins]
    blocks: list[str | Table | tuple[str, str]] = [
        f"{c.message}; horizon {c.horizon_days:g} days. Reliability over the {c.matured} "
        f"scored leads of the trend weeks whose horizon has passed ({c.converted} converted): "
        f"ECE {_cell(c.ece)} (at training {_cell(c.training_ece)})"
        + (f"; fewer than {r.rules.calibration_min_leads} leads, no verdict."
           if c.matured < r.rules.calibration_min_leads else "."),
        Table(("probability", "leads", "mean predicted", "observed"), rows)]
    if c.bins:
        blocks.append((svg.reliability([(b.predicted, b.observed, b.leads) for b in c.bins],
                                       "reliability"), "predicted against observed"))
    share = ", ".join(f"{k} {_pct(v)}" for k, v in c.priority_share.items())
    blocks.append(f"Drift: {c.week_scored} leads scored this week (mean probability "
                  f"{_cell(c.week_mean_probability)}); priorities {share or '—'} against 25 % "
                  f"each at training; PSI {_cell(c.psi)}: **{c.drift}**.")
    return Section("Model calibration and drift", 2, blocks)


def markdown(sections: Sequence[Section]) -> str:
    out: list[str] = []
    for section in sections:
        out.append(f"{'#' * section.level} {section.title}\n")
        for block in section.blocks:
            if isinstance(block, Table):
                out.append(_md_table(block))
            elif isinstance(block, tuple):
                out.append(f"*(plot in the HTML: {block[1]})*\n")
            else:
                out.append(block + "\n")
    return "\n".join(out)


def _md_table(table: Table) -> str:
    def line(cells: Sequence[Cell]) -> str:
        return "| " + " | ".join(_cell(c).replace("|", "\\|") for c in cells) + " |"
    if not table.rows:
        return "(none)\n"
    return "\n".join([line(table.headers), "|" + "---|" * len(table.headers),
                      *(line(row) for row in table.rows)]) + "\n"


STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}"
         "th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}"
         "th:first-child,td:first-child{text-align:left}th{background:#f3f4f6}"
         "figure{margin:.5em 0}figcaption{font-size:12px;color:#555}")


def html(sections: Sequence[Section], title: str) -> str:
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"]
    for section in sections:
        parts.append(f"<h{section.level}>{escape(section.title)}</h{section.level}>")
        for block in section.blocks:
            if isinstance(block, Table):
                parts.append(_html_table(block))
            elif isinstance(block, tuple):
                parts.append(f"<figure>{block[0]}<figcaption>{escape(block[1])}</figcaption>"
                             "</figure>")
            else:
                parts.append(_html_text(block))
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_text(text: str) -> str:
    """Paragraphs and "- " lists, with **bold** kept (the only markup the report uses)."""
    lines = text.split("\n")
    def inline(s: str) -> str:
        pieces = escape(s).split("**")
        return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(pieces))
    if all(line.startswith("- ") for line in lines):
        return "<ul>" + "".join(f"<li>{inline(line[2:])}</li>" for line in lines) + "</ul>"
    return f"<p>{inline(text)}</p>"


def _html_table(table: Table) -> str:
    if not table.rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(c))}</td>" for c in row) + "</tr>"
                   for row in table.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
