"""The outreach bandit's cumulative regret on a simulated CRM (issue 16, item 7), against
uniform random choice and the judge alone, from the simulator's ground truth: every
contacted lead's P(reply) had each style been sent (`sim_truth`), so the two other policies
are scored exactly on the same leads (leadflow/sim/regret.py).

    LEADFLOW_DATABASE_URL=sqlite:////tmp/b/crm.db LEADFLOW_CHECKPOINT_DB=/tmp/b/cp.db \\
        leadflow simulate --days 60 --leads-per-day 40 --seed 7 --drain-days 14
    LEADFLOW_DATABASE_URL=sqlite:////tmp/b/crm.db python benchmarks/outreach_bandit.py

Prints the cumulative regret at the end of each simulated week, then one line:

    bandit: regret=R uniform_regret=U judge_regret=J weeks=W ratio=R/U judge_ratio=R/J leads=N
"""

from __future__ import annotations

from leadflow.settings import Settings
from leadflow.sim.regret import POLICIES, Regret, outreach_regret
from leadflow.tools.crm import CrmStore


def main() -> Regret:
    crm = CrmStore(Settings.from_env().database_url)
    try:
        regret = outreach_regret(crm.sim_truth(), crm.sent_choices())
    finally:
        crm.close()
    print("week  " + "  ".join(f"{p:>8}" for p in POLICIES))
    for n, week in enumerate(regret.weekly, start=1):
        print(f"{n:>4}  " + "  ".join(f"{week[p]:8.2f}" for p in POLICIES))
    print(f"best style sent to {regret.best_sent} of {regret.leads} contacted leads")
    print(regret.line())
    return regret


if __name__ == "__main__":
    main()
