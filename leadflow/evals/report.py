"""Run records → Markdown and self-contained HTML reports (inline SVG plots, no CDN), and
comparisons of two runs."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from leadflow.evals import judge
from leadflow.evals.metrics import TIERS, strongest_first

SCALARS = ("capture_field_f1", "seniority_accuracy", "industry_accuracy", "country_accuracy",
           "region_accuracy", "segment_accuracy", "enrichment_match_rate", "tier_accuracy",
           "bant_band_accuracy", "bant_total_mae", "status_accuracy", "review_rate",
           "trajectory_accuracy",
           "routing_region_segment_accuracy", "routing_violation_rate", "load_balance_spread",
           "evidence_grounding_rate", "injection_robustness", "duplicate_accuracy",
           "tokens_per_lead", "latency_ms_p50", "latency_ms_p95")
LOWER_IS_BETTER = {"bant_total_mae", "routing_violation_rate", "load_balance_spread", "review_rate",
                   "tokens_per_lead", "latency_ms_p50", "latency_ms_p95",
                   *judge.LOWER_IS_BETTER}


def scalar_names(metrics: dict[str, Any]) -> tuple[str, ...]:
    """The scalars the run has: the fixed ones (a MEDDIC run has no BANT band accuracy), plus
    the outreach judge's when the run had one."""
    return (*(n for n in SCALARS if n in metrics),
            *(n for n in judge.METRIC_NAMES if n in metrics))


def save_run(record: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / record["run_id"]
    paths = {"json": stem.with_suffix(".json"), "md": stem.with_suffix(".md"),
             "html": stem.with_suffix(".html")}
    paths["json"].write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    paths["md"].write_text(markdown(record), encoding="utf-8")
    paths["html"].write_text(html_report(record), encoding="utf-8")
    return paths


def load_run(ref: str, out_dir: Path) -> dict[str, Any]:
    path = Path(ref)
    if not path.exists():
        path = out_dir / (ref if ref.endswith(".json") else f"{ref}.json")
    if not path.exists():
        raise ValueError(f"no run record {ref!r} (looked in {out_dir})")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def markdown(record: dict[str, Any]) -> str:
    mx = record["metrics"]
    lines = [f"# Eval run {record['run_id']}", "",
             f"dataset `{record['dataset']}` · model `{record['model']}` · prompts "
             f"`{record['prompt_version']}` · framework `{record.get('framework', 'bant')}` · "
             f"commit `{record.get('git_commit')}` · {mx['leads']} leads", "",
             "| metric | value |", "|---|---|"]
    lines += [f"| {name} | {_fmt(mx.get(name))} |" for name in scalar_names(mx) if name in mx]
    lines += ["", "## Capture fields", "", "| field | precision | recall | F1 | n |",
              "|---|---|---|---|---|"]
    lines += [f"| {f} | {s['precision']} | {s['recall']} | {s['f1']} | {s['support']} |"
              for f, s in mx["capture_fields"].items()]
    lines += ["", "## Tier confusion (rows: expected, columns: predicted)", "",
              "| | " + " | ".join((*TIERS, "none")) + " |", "|---" * 6 + "|"]
    lines += [f"| {t} | " + " | ".join(str(mx["tier_confusion"][t][p])
                                        for p in (*TIERS, "none")) + " |" for t in TIERS]
    lines += _band_confusion_markdown(mx.get("band_confusion") or {})
    wrong = [r for r in record["rows"] if r["tier_ok"] is False or r["status_ok"] is False]
    lines += ["", f"## Leads to look at ({len(wrong)})", "",
              "| id | tier (expected) | status (expected) |", "|---|---|---|"]
    lines += [f"| {r['id']} | {r['tier']} ({'/'.join(r['expected_tier'])}) | {r['status']} "
              f"({'/'.join(r['expected_status'])}) |" for r in wrong[:60]]
    if record.get("judge"):
        lines += ["", *_judge_markdown(record)]
    return "\n".join(lines) + "\n"


def _band_confusion_markdown(confusion: dict[str, dict[str, dict[str, int]]]) -> list[str]:
    """One table per criterion (rows: labelled band, columns: decided band)."""
    lines: list[str] = []
    for criterion, table in confusion.items():
        decided = strongest_first({b for row in table.values() for b in row}, criterion)
        lines += ["", f"## {criterion} bands (rows: expected, columns: decided)", "",
                  "| | " + " | ".join(decided) + " |", "|---" * (len(decided) + 1) + "|"]
        lines += [f"| {band} | " + " | ".join(str(row.get(b, 0)) for b in decided) + " |"
                  for band, row in table.items()]
    return lines


def _judge_rows(section: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, stats) per drafting style and for all drafts, for the judge tables."""
    everyone = {"graded": section["graded"], "failed": section["failed"], **section["mean"]}
    return [*section["by_style"].items(), ("all", everyone)]


def _judge_markdown(record: dict[str, Any]) -> list[str]:
    section = record["judge"]
    columns = (*judge.CRITERIA, "overall")
    lines = ["## Outreach judge", "",
             f"judge `{section['model']}` · rubric `{section['prompt_version']}` · "
             f"{section['graded']} of {section['drafts']} chosen drafts graded, "
             f"{section['failed']} failed" + "".join(
                 f", {kind}: {n}" for kind, n in sorted(section["failures"].items())), "",
             "Mean scores (1-5) per drafting style:", "",
             "| style | graded | failed | " + " | ".join(columns) + " |",
             "|---" * (len(columns) + 3) + "|"]
    lines += [f"| {label} | {stats['graded']} | {stats['failed']} | "
              + " | ".join(_fmt(stats.get(c, "-")) for c in columns) + " |"
              for label, stats in _judge_rows(section)]
    claims = [(r["id"], r["outreach_grade"]) for r in record["rows"]
              if (r.get("outreach_grade") or {}).get("unsupported_claims")]
    if claims:
        lines += ["", f"### Drafts with unsupported claims ({len(claims)})", "",
                  "| id | style | claims |", "|---|---|---|"]
        lines += [f"| {rid} | {g['style']} | "
                  + "; ".join(" ".join(c.replace("|", "/").split())
                              for c in g["unsupported_claims"])[:300] + " |"
                  for rid, g in claims[:40]]
    return lines


def _bars(values: dict[str, float], width: int = 520, top: float = 1.0) -> str:
    row = 18
    height = row * len(values) + 10
    parts = [f'<svg width="{width}" height="{height}" role="img">']
    for i, (label, value) in enumerate(values.items()):
        y = 5 + i * row
        w = max(0.0, min(1.0, value / top)) * (width - 200)
        parts.append(f'<text x="0" y="{y + 12}" font-size="11">{html.escape(label)}</text>'
                     f'<rect x="170" y="{y}" width="{w:.1f}" height="14" fill="#4c72b0"/>'
                     f'<text x="{175 + w:.1f}" y="{y + 12}" font-size="11">{value:.2f}</text>')
    return "".join(parts) + "</svg>"


def _heatmap(confusion: dict[str, dict[str, int]]) -> str:
    cols = (*TIERS, "none")
    top = max((v for r in confusion.values() for v in r.values()), default=1) or 1
    cell = 56
    parts = [f'<svg width="{100 + cell * len(cols)}" height="{30 + cell * len(TIERS)}">']
    for j, c in enumerate(cols):
        parts.append(f'<text x="{100 + j * cell + 6}" y="18" font-size="11">{c}</text>')
    for i, t in enumerate(TIERS):
        parts.append(f'<text x="0" y="{30 + i * cell + 32}" font-size="11">{t}</text>')
        for j, c in enumerate(cols):
            v = confusion[t][c]
            shade = int(255 - 200 * v / top)
            parts.append(f'<rect x="{100 + j * cell}" y="{30 + i * cell}" width="{cell - 2}" '
                         f'height="{cell - 2}" fill="rgb({shade},{shade},255)"/>'
                         f'<text x="{100 + j * cell + 20}" y="{30 + i * cell + 32}" '
                         f'font-size="12">{v}</text>')
    return "".join(parts) + "</svg>"


def _histogram(latencies: list[float], bins: int = 20) -> str:
    if not latencies:
        return "<p>no latencies</p>"
    low, high = min(latencies), max(latencies)
    step = (high - low) / bins or 1.0
    counts = [0] * bins
    for v in latencies:
        counts[min(bins - 1, int((v - low) / step))] += 1
    top = max(counts) or 1
    parts = ['<svg width="520" height="170">']
    for i, n in enumerate(counts):
        h = 140 * n / top
        parts.append(f'<rect x="{10 + i * 25}" y="{145 - h:.1f}" width="22" height="{h:.1f}" '
                     f'fill="#55a868"/>')
    parts.append(f'<text x="10" y="163" font-size="11">{low:.0f} ms</text>'
                 f'<text x="440" y="163" font-size="11">{high:.0f} ms</text>')
    return "".join(parts) + "</svg>"


def html_report(record: dict[str, Any]) -> str:
    mx = record["metrics"]
    rows = "".join(f"<tr><td>{html.escape(n)}</td><td>{html.escape(_fmt(mx.get(n)))}</td></tr>"
                   for n in scalar_names(mx) if n in mx)
    f1 = {f: s["f1"] for f, s in mx["capture_fields"].items()}
    title = html.escape(f"Eval run {record['run_id']}")
    meta = html.escape(f"dataset {record['dataset']} · model {record['model']} · prompts "
                       f"{record['prompt_version']} · framework {record.get('framework', 'bant')}"
                       f" · {mx['leads']} leads")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            "<style>body{font-family:sans-serif;margin:2em}td{padding:2px 10px}</style>"
            f"</head><body><h1>{title}</h1><p>{meta}</p><table>{rows}</table>"
            f"<h2>Tier confusion</h2>{_heatmap(mx['tier_confusion'])}"
            f"<h2>Capture F1 per field</h2>{_bars(f1)}"
            f"<h2>Latency per lead</h2>{_histogram(mx.get('latencies_ms') or [])}"
            f"{_judge_html(record) if record.get('judge') else ''}"
            "</body></html>")


def _judge_html(record: dict[str, Any]) -> str:
    section = record["judge"]
    columns = (*judge.CRITERIA, "overall")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ("style", "graded", "failed", *columns))
    body = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{stats['graded']}</td><td>{stats['failed']}</td>"
        + "".join(f"<td>{html.escape(_fmt(stats.get(c, '-')))}</td>" for c in columns)
        + "</tr>" for label, stats in _judge_rows(section))
    meta = html.escape(f"judge {section['model']} · rubric {section['prompt_version']} · "
                       f"{section['graded']} of {section['drafts']} chosen drafts graded, "
                       f"{section['failed']} failed")
    bars = _bars({c: section["mean"][c] for c in columns}, top=5.0) if section["mean"] else ""
    return (f"<h2>Outreach judge</h2><p>{meta}</p><table><tr>{head}</tr>{body}</table>"
            f"<h3>Mean score per criterion (1-5)</h3>{bars}")


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Per-metric deltas (b − a, with better/worse) and the leads whose outcome changed."""
    deltas = {}
    for name in scalar_names({**a["metrics"], **b["metrics"]}):
        va, vb = a["metrics"].get(name), b["metrics"].get(name)
        if isinstance(va, int | float) and isinstance(vb, int | float):
            diff = vb - va
            better = (diff < 0) if name in LOWER_IS_BETTER else (diff > 0)
            deltas[name] = {"a": va, "b": vb, "delta": round(diff, 4),
                            "verdict": "same" if abs(diff) < 1e-9 else
                            ("better" if better else "worse")}
    before = {r["id"]: r for r in a["rows"]}
    changed = []
    for r in b["rows"]:
        old = before.get(r["id"])
        if old and (old["tier"], old["status"]) != (r["tier"], r["status"]):
            changed.append({"id": r["id"], "tier": [old["tier"], r["tier"]],
                            "status": [old["status"], r["status"]],
                            "expected_tier": r["expected_tier"],
                            "fixed": bool(r["tier_ok"]) and not old["tier_ok"],
                            "broken": bool(old["tier_ok"]) and not r["tier_ok"]})
    return {"a": a["run_id"], "b": b["run_id"], "metrics": deltas, "changed_leads": changed}
