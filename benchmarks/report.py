"""Issue 19's checks on credit-g: report() time after a 60 s fit, and feature_importance against scikit-learn.

Fits autodeep for 60 s on 80 % of the bundled credit-g (stratified, random_state=0), then
- times ``clf.report()`` (target: under 10 s) and checks that every section is present;
- ranks the columns by ``clf.feature_importance`` on the held-out 20 % (5 repeats, AUC) and by scikit-learn's
  ``permutation_importance`` (5 repeats, AUC) of a ``HistGradientBoostingClassifier`` fit on the same split;
  the target is at least 2 of autodeep's top 3 among scikit-learn's top 3.

Run: KERAS_BACKEND=torch python benchmarks/report.py [--time-limit 60] [--directory autodeep_runs]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path


def sklearn_ranking(x_tr, y_tr, x_te, y_te) -> list[str]:
    """Columns by permutation importance (AUC, 5 repeats) of a HistGradientBoostingClassifier."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance

    def categorical(frame):
        import pandas as pd

        return frame.apply(lambda c: c if pd.api.types.is_numeric_dtype(c) else c.astype("category"))

    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    model.fit(categorical(x_tr), y_tr)
    result = permutation_importance(model, categorical(x_te), y_te, scoring="roc_auc", n_repeats=5, random_state=0)
    order = result.importances_mean.argsort()[::-1]
    return [x_te.columns[i] for i in order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60)
    parser.add_argument("--directory", default=None)
    args = parser.parse_args()
    from sklearn.model_selection import train_test_split

    import autodeep as ak
    from autodeep.report.html_report import SECTIONS

    df = ak.datasets.load_credit_g()
    x, y = df.drop(columns="class"), df["class"]
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    directory = args.directory or tempfile.mkdtemp()
    clf = ak.StructuredDataClassifier(time_limit=args.time_limit, directory=directory, project_name="credit_g",
                                      overwrite=True, seed=0, verbose=0)
    started = time.time()
    clf.fit(x_tr, y_tr)
    fit_seconds = time.time() - started
    started = time.time()
    page = clf.report(Path(directory) / "report.html")
    report_seconds = time.time() - started
    ids = re.findall(r'<section id="([\w-]+)">', page.read_text(encoding="utf-8"))
    skipped = page.read_text(encoding="utf-8").count("Not shown")
    ours = list(clf.feature_importance(x_te, y_te, n_repeats=5).index)
    theirs = sklearn_ranking(x_tr, y_tr == "good", x_te, y_te == "good")
    shared = sorted(set(ours[:3]) & set(theirs[:3]))
    print(f"fit {fit_seconds:.1f}s, {len(clf.study_.trials)} trials; report() {report_seconds:.2f}s "
          f"(target < 10 s); sections {len(ids)}/{len(SECTIONS)}, {skipped} not shown; page {page}")
    print(f"autodeep top 3: {ours[:3]}; scikit-learn HGB top 3: {theirs[:3]}; shared {len(shared)} {shared} "
          f"(target >= 2)")


if __name__ == "__main__":
    main()
