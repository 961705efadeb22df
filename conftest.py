"""pytest set-up shared by the unit tests and the notebooks run with nbval."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def pytest_configure(config):
    # The analytics notebooks read the results table named by SHEQU_RESULTS. For tests it is
    # the simulated district scored by the library (no nbgrader), so they run on a clean clone.
    if os.environ.get("SHEQU_RESULTS"):
        return
    from shequ import results, simulate

    target = ROOT / "build" / "test" / "results.csv"
    df, _ = simulate.district_results(out_root=ROOT / "build" / "test" / "grading")
    results.save(df, target)
    os.environ["SHEQU_RESULTS"] = str(target)
