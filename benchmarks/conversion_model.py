"""How good a trained conversion model is on a simulated CRM, judged against the simulator's
ground truth (issue 16, item 7): the evaluator's view, which may read `sim_truth` because it
never trains anything.

For the model's own test leads (the same time split `leadflow model train` used) it prints:
the model's AUC and ECE against the labels, the BANT total's AUC (the baseline), the AUC of
the truth's own probability of a meeting (the ceiling any model could reach on these labels,
with the rep and the response delay each lead actually got, and with an average rep an hour
after arrival — what is knowable at routing), and the ECE a perfectly calibrated model would
show on this many leads (the noise floor).

    LEADFLOW_DATABASE_URL=sqlite:////tmp/m/crm.db python benchmarks/conversion_model.py [VERSION]

Prints one line:

    conversion_model: version=V auc=A baseline_auc=B truth_auc=T truth_prior_auc=P ece=E
                      ece_noise_floor=F test_rate=R mean_prediction=M n_test=N positives=K
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from leadflow.config import icp
from leadflow.scoring import metrics
from leadflow.scoring.features import labelled_examples, scoring_config, time_split
from leadflow.scoring.model import load
from leadflow.settings import Settings
from leadflow.tools.crm import CrmStore


def model_and_test_leads(version: int | None) -> tuple[int, Any, Any, list[Any], dict[str, Any]]:
    """The model (the newest when `version` is None), its row, the test leads of its own
    time split and the simulator's truth per lead: what both conversion benchmarks read."""
    crm = CrmStore(Settings.from_env().database_url)
    try:
        if version is None:
            version = max(m["version"] for m in crm.models())
        row = crm.model(version)
        assert row is not None, f"no model {version}"
        model = load(*crm.model_artefact(version))
        config = scoring_config().with_overrides(horizon_days=row["horizon_days"])
        rules = icp()
        examples = labelled_examples(
            crm.history_leads(), crm.history_events(config.positive_events),
            row["trained_through"], config, assign_tiers=rules.routing["assign_tiers"],
            target_tech=rules.target_tech)
        _, test = time_split(examples, config.test_fraction)
        truth = {t["lead_id"]: t["truth"] for t in crm.sim_truth()}
    finally:
        crm.close()
    return version, row, model, test, truth


def main(version: int | None) -> str:
    version, _row, model, test, truth = model_and_test_leads(version)
    labels = [e.label for e in test]
    p = model.probabilities([e.features for e in test])

    def meeting(lead_id: str, key: str) -> float:
        return float(((truth.get(lead_id) or {}).get(key) or {}).get("meeting", 0.0))

    return (f"conversion_model: version={version} auc={metrics.auc(p, labels):.3f} "
            f"baseline_auc={metrics.auc([e.baseline for e in test], labels):.3f} "
            f"truth_auc={metrics.auc([meeting(e.lead_id, 'probabilities') for e in test], labels):.3f} "  # noqa: E501
            f"truth_prior_auc="
            f"{metrics.auc([meeting(e.lead_id, 'prior_probabilities') for e in test], labels):.3f} "
            f"ece={metrics.ece(p, labels):.3f} ece_noise_floor={metrics.ece_noise_floor(p):.3f} "
            f"test_rate={np.mean(labels):.3f} mean_prediction={np.mean(p):.3f} "
            f"n_test={len(test)} positives={sum(labels)}")


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else None))
