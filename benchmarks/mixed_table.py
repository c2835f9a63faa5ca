"""Mixed-table benchmark: a free-text column beside tabular columns, against each part alone (issue 23).

    nice -n 10 python benchmarks/mixed_table.py --time-limit 120 --seed 0

The table is built from the SMS Spam Collection (``text/sms_spam_collection.csv.gz`` in the shared data,
5,574 messages, 747 spam) by ``build_table``, deterministically from ``--seed``. Beside each message
(column ``message``) it draws three tabular columns from the message's label, independently of the words:

* ``account_age_days``: ``round(exp(N(6, 1)))`` for ham, ``round(exp(N(5, 1)))`` for spam;
* ``sent_hour``: ``N(15, 4)`` rounded and clipped to 0..23 for ham, uniform on 0..23 for spam;
* ``network``: one of A-E with probabilities .30/.30/.20/.15/.05 for ham, .15/.15/.20/.20/.30 for spam.

So each part carries signal the other lacks. The target ``label`` is "spam" or "ham"; a stratified 80/20
split (``random_state=seed``) gives the test rows, scored by ROC AUC of the "spam" probability.

Variants: ``mixed`` (all columns, ``StructuredDataClassifier``: the text column is inferred as text and
gets a TF-IDF branch beside the tabular one), ``no_text`` (the same table without ``message``) and
``text_only`` (``message`` alone, ``TextClassifier``). Each fit has ``--time-limit`` seconds.

``--systems`` names the systems to run: ``autodeep``; ``linear``, a fixed scikit-learn reference (TF-IDF
word 1-2-grams with sublinear tf, one-hot categories and standardised numbers (log1p of the account age)
into one ``LogisticRegression(C=10)``); and ``autogluon`` (AutoGluon's ``TabularPredictor`` at its default
preset with ``eval_metric="roc_auc"``, the same time limit and the same frames). AutoGluon runs in its own
virtual environment (``benchmarks/setup_autogluon.sh``; ``--autogluon-python``, default
``$AUTODEEP_AUTOGLUON_PYTHON``, else ``/opt/autogluon-venv/bin/python``): without it its rows record the error.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import _common as C
import _tabular_systems as S

VARIANTS = ("mixed", "no_text", "text_only")
SYSTEMS = ("autodeep", "linear", "autogluon")
TARGET, POSITIVE, TEXT = "label", "spam", "message"
NETWORKS = ["A", "B", "C", "D", "E"]
COLUMNS = ["system", "variant", "columns", "train_rows", "test_rows", "auc", "trials", "wall_s", "commit", "error",
           "detail"]


def build_table(messages: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The mixed table: each SMS message and its label, with tabular columns drawn from the label (see above)."""
    rng = np.random.default_rng(seed)
    spam = (messages["label"] == POSITIVE).to_numpy()
    n = len(messages)
    age = np.round(np.exp(rng.normal(np.where(spam, 5.0, 6.0), 1.0)))
    hour = np.where(spam, rng.integers(0, 24, n), np.clip(np.round(rng.normal(15.0, 4.0, n)), 0, 23))
    ham_p, spam_p = [0.30, 0.30, 0.20, 0.15, 0.05], [0.15, 0.15, 0.20, 0.20, 0.30]
    network = np.where(spam, rng.choice(NETWORKS, n, p=spam_p), rng.choice(NETWORKS, n, p=ham_p))
    return pd.DataFrame({TEXT: messages["text"].fillna("").astype(str).to_numpy(), "account_age_days": age.astype(int),
                         "sent_hour": hour.astype(int), "network": network, TARGET: messages["label"].to_numpy()})


def variant_columns(variant: str, table: pd.DataFrame) -> list[str]:
    features = [c for c in table.columns if c != TARGET]
    return {"mixed": features, "no_text": [c for c in features if c != TEXT], "text_only": [TEXT]}[variant]


def fit_autodeep(variant: str, train: pd.DataFrame, test: pd.DataFrame, args, directory: str):
    """``(spam probabilities on test, completed trials, "")`` of autodeep on one variant."""
    import autodeep as ak

    common = dict(time_limit=args.time_limit, max_trials=1000, seed=args.seed, directory=directory,
                  project_name=variant, overwrite=True, verbose=args.verbose)
    if variant == "text_only":
        clf = ak.TextClassifier(**common).fit(train[TEXT].tolist(), train[TARGET].to_numpy())
        proba = clf.predict_proba(test[TEXT].tolist())
    else:
        clf = ak.StructuredDataClassifier(**common).fit(train, TARGET)
        proba = clf.predict_proba(test.drop(columns=TARGET))
    trials = int((clf.tuner_results["state"] == "COMPLETE").sum())
    return proba[:, list(clf.classes_).index(POSITIVE)], trials, ""


def fit_linear(variant: str, train: pd.DataFrame, test: pd.DataFrame, args, directory: str):
    """``(spam probabilities on test, None, "")`` of the fixed linear reference (see above)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    parts = {TEXT: ("text", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), TEXT),
             "account_age_days": ("age", make_pipeline(FunctionTransformer(np.log1p), StandardScaler()),
                                  ["account_age_days"]),
             "sent_hour": ("hour", StandardScaler(), ["sent_hour"]),
             "network": ("network", OneHotEncoder(handle_unknown="ignore"), ["network"])}
    columns = [c for c in train.columns if c != TARGET]
    model = make_pipeline(ColumnTransformer([parts[c] for c in columns]), LogisticRegression(C=10, max_iter=2000))
    model.fit(train[columns], train[TARGET] == POSITIVE)
    return model.predict_proba(test[columns])[:, 1], None, ""


def fit_autogluon(variant: str, train: pd.DataFrame, test: pd.DataFrame, args, directory: str):
    """``(spam probabilities on test, None, detail)`` of AutoGluon's TabularPredictor on the same frames, run in
    its own virtual environment (``_tabular_systems.autogluon_predict``)."""
    classes, proba, result = S.autogluon_predict("binary", train, test, TARGET, args.time_limit)
    return proba[:, list(classes).index(POSITIVE)], None, S.autogluon_detail(result)


def run(system: str, variant: str, train: pd.DataFrame, test: pd.DataFrame, args) -> dict:
    columns = variant_columns(variant, train)
    row = dict.fromkeys(COLUMNS) | {"system": system, "variant": variant, "columns": " ".join(columns),
                                    "train_rows": len(train), "test_rows": len(test), "commit": C.git_commit()}
    fit = {"autodeep": fit_autodeep, "linear": fit_linear, "autogluon": fit_autogluon}[system]
    try:
        with C.Timer() as t, tempfile.TemporaryDirectory(prefix="autodeep_bench_") as tmp:
            proba, trials, detail = fit(variant, train[columns + [TARGET]], test[columns + [TARGET]], args, tmp)
        row |= {"auc": float(roc_auc_score(test[TARGET] == POSITIVE, proba)), "trials": trials,
                "wall_s": t.seconds, "detail": detail}
    except Exception as e:  # one failure is a row, not the end of the run
        row["error"] = f"{type(e).__name__}: {e}"[:300]
    return row


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--systems", nargs="+", choices=SYSTEMS, default=["autodeep"])
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-limit", type=float, default=120, help="seconds per fit (default 120)")
    p.add_argument("--verbose", type=int, default=0)
    S.add_autogluon_argument(p)
    C.add_io_arguments(p, "mixed_table")
    args = p.parse_args(argv)
    args.out = C.result_path(args)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    root = C.data_dir(args.data_dir)
    messages = pd.read_csv(root / C.load_manifest(root, "text").loc["sms_spam_collection", "file"])
    table = build_table(messages, args.seed)
    train, test, _, _ = C.split(table, table[TARGET], args.seed)
    import autodeep  # noqa: F401  (import time is not part of the first fit's wall time; sets the backend)
    import keras

    rows = []
    print(C.md_table([], COLUMNS), end="", flush=True)
    try:
        for system in args.systems:
            for variant in args.variants:
                rows.append(run(system, variant, train, test, args))
                print(C.md_row(rows[-1].values()), flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting the finished rows", file=sys.stderr)
    report = (C.header("Mixed-table benchmark: a text column beside tabular columns", ("keras", "torch", "jax"))
              + f"- table: SMS Spam Collection messages + 3 tabular columns drawn from the label (seed {args.seed}; "
              f"see benchmarks/mixed_table.py); stratified 80/20 split; metric: test ROC AUC of 'spam'\n"
              + f"- time limit per fit: {args.time_limit:g} s; Keras backend: {keras.backend.backend()}\n\n## Runs\n\n" + C.md_table(rows, COLUMNS))
    md, csv = C.write_report(args.out, report, rows)
    print(f"wrote {md} and {csv}")


if __name__ == "__main__":
    main()
