"""`leadflow model`: conversion models trained on the CRM's own history (docs/models.md) —
train one, look at them, promote one out of shadow, roll back."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from leadflow.cli.access import crm_store, fail
from leadflow.cli.app import app
from leadflow.cli.terminal import console, print_json_verbatim

model_app = typer.Typer(help="Conversion models trained on the CRM's history.",
                        no_args_is_help=True)
app.add_typer(model_app, name="model")

COLD_START_EXIT = 3  # refused: too little history; the rules stay in charge


@model_app.command("train")
def model_train(
    horizon: Annotated[str | None, typer.Option(
        help="a conversion counts within this long of arrival: 30d, 2w, 36h "
             "(default: scoring.yaml)")] = None,
    min_leads: Annotated[int | None, typer.Option(
        min=1, help="cold start: refuse below this many labelled leads")] = None,
    min_conversions: Annotated[int | None, typer.Option(
        min=1, help="cold start: refuse below this many conversions among them")] = None,
) -> None:
    """Train a calibrated conversion model on the CRM's settled leads (time-based split) and
    store it in shadow. Prints one line: its test metrics against the rules' BANT total."""
    from datetime import UTC, datetime

    from leadflow.config import icp
    from leadflow.scoring.features import labelled_examples, parse_horizon, scoring_config
    from leadflow.scoring.model import ColdStart, digest, headline, train

    try:
        days = None if horizon is None else parse_horizon(horizon)
    except ValueError as exc:
        raise fail(f"--horizon: {exc}", code=2) from None
    config = scoring_config().with_overrides(horizon_days=days, min_leads=min_leads,
                                             min_conversions=min_conversions)
    crm = crm_store()
    as_of = crm.latest_moment()
    rules = icp()
    examples = [] if as_of is None else labelled_examples(
        crm.history_leads(), crm.history_events(config.positive_events), as_of, config,
        assign_tiers=rules.routing.get("assign_tiers") or (), target_tech=rules.target_tech)
    try:
        trained = train(examples, config)
    except ColdStart as exc:
        raise fail(str(exc), code=COLD_START_EXIT) from None
    assert as_of is not None  # train refuses an empty history
    artefact = trained.model.dumps()
    crm.save_model(
        kind=trained.model.kind, now=datetime.now(UTC), trained_through=as_of,
        horizon_days=config.horizon_days, n_train=trained.n_train, n_test=trained.n_test,
        metrics=trained.metrics, features=trained.features, artefact=artefact,
        sha256=digest(artefact))
    console.print(headline(trained.metrics), highlight=False, soft_wrap=True)


def _f(value: Any) -> str:
    return "—" if value is None else f"{float(value):.3f}"


_KIND_SHORT = {"gradient_boosting": "boosting"}


@model_app.command("list")
def model_list() -> None:
    """Every model, newest first: its status, kind and test metrics."""
    rows = crm_store().models()
    if not rows:
        console.print("no models yet: `leadflow model train` (the rules are in charge)")
        return
    # narrow columns, so the table reads whole in an 80-column terminal (`model show` has
    # the rest: the horizon, each candidate's metrics, the features)
    table = Table(title="conversion models", box=box.SIMPLE_HEAD, padding=(0, 1),
                  collapse_padding=True, show_edge=False)
    for col in ("v", "status", "kind", "trained", "auc (rules)", "lift@10%", "ece",
                "train/test"):
        table.add_column(col, no_wrap=True,
                         justify="left" if col in ("status", "kind", "trained") else "right")
    for row in rows:
        m = row["metrics"] or {}
        table.add_row(str(row["version"]), row["status"],
                      _KIND_SHORT.get(row["kind"], row["kind"]),
                      row["created_at"].strftime("%Y-%m-%d"),
                      f"{_f(m.get('auc'))} ({_f(m.get('baseline_auc'))})",
                      _f(m.get("lift_top_decile")), _f(m.get("ece")),
                      f"{row['n_train']}/{row['n_test']}")
    console.print(table)


@model_app.command("show")
def model_show(version: Annotated[int, typer.Argument(help="the model's version")]) -> None:
    """One model as JSON: status, metrics (each candidate's, and why this one was chosen),
    features, sha256 — not its bytes."""
    row = crm_store().model(version)
    if row is None:
        raise fail(f"no model {version}")
    body = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
    print_json_verbatim(body)


@model_app.command("promote")
def model_promote(version: Annotated[int | None, typer.Argument(
        help="the model to promote (default: the newest in shadow)")] = None) -> None:
    """Put a model in charge of the outcome records' `conversion`; the promoted one it
    replaces is retired. Newly settled leads carry its score from now on."""
    from datetime import UTC, datetime

    from leadflow.tools.crm.models import NoSuchModel

    try:
        promoted, retired = crm_store().promote_model(version, datetime.now(UTC))
    except NoSuchModel as exc:
        raise fail(str(exc)) from None
    console.print(f"model {promoted} promoted" + (f"; model {retired} retired"
                                                  if retired is not None else ""))


@model_app.command("rollback")
def model_rollback() -> None:
    """Retire the promoted model and promote again the one before it (none: the rules
    alone are in charge)."""
    from datetime import UTC, datetime

    from leadflow.tools.crm.models import NoSuchModel

    try:
        retired, restored = crm_store().rollback_model(datetime.now(UTC))
    except NoSuchModel as exc:
        raise fail(str(exc)) from None
    console.print(f"model {retired} retired; " + (
        f"model {restored} promoted again" if restored is not None
        else "no model promoted: the rules alone are in charge"), highlight=False)


DRIFT_EXIT = 4  # drift found: sales ops were told


@model_app.command("drift")
def model_drift(
    version: Annotated[int | None, typer.Argument(
        help="the model to check (default: the promoted one)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON")] = False,
) -> None:
    """Compare the recent leads' scores (PSI) and the settled leads' calibration with the
    model's training (bounds: scoring.yaml `drift:`). On drift, sales ops get a notice and
    the exit code is 4."""
    from datetime import UTC, datetime

    from leadflow.scoring.drift import load_bounds, measure
    from leadflow.scoring.features import scoring_config
    from leadflow.tools.notifier import route_for
    from leadflow.tools.reps import RepDirectory

    try:
        bounds = load_bounds()
    except ValueError as exc:
        raise fail(str(exc), code=2) from None
    crm = crm_store()
    if version is None:
        promoted = [m for m in crm.scoring_models() if m["status"] == "promoted"]
        if not promoted:
            raise fail("no promoted model: name one (`leadflow model drift 3`)")
        version = int(promoted[0]["version"])
    row = crm.model(version)
    if row is None:
        raise fail(f"no model {version}")
    model_metrics = row["metrics"] or {}
    positive = model_metrics.get("positive_events") or scoring_config().positive_events
    scores = crm.model_scores(version)
    # "now" is the CRM's own latest moment (a simulated or replayed CRM runs on its clock)
    as_of = max([m for m in (crm.latest_moment(), *(at for _, _, at in scores)) if m],
                default=datetime.now(UTC))
    report = measure(version, model_metrics, scores, crm.history_events(positive), as_of,
                     bounds)
    if as_json:
        print_json_verbatim(report.as_dict())
    else:
        console.print(report.line(), highlight=False, soft_wrap=True)
    if report.drifted:
        audiences = RepDirectory().config.audiences
        crm.add_notification(  # about the model, not a lead; once per model and day
            dedupe_key=f"model:{version}:drift:{as_of.date().isoformat()}", lead_id=None,
            audience="sales_operations", channel=route_for("sales_operations"),
            recipient=(audiences.get("sales_operations") or audiences["operations"]),
            subject=f"Conversion model {version} has drifted",
            body=report.line() + "\nRetrain (`leadflow model train`) and compare, or roll "
                                 "back (`leadflow model rollback`).", now=as_of)
        raise typer.Exit(code=DRIFT_EXIT)
