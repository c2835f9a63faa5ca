"""The search report: one self-contained HTML file (figures embedded as base64 PNG), from a project folder."""

from __future__ import annotations

import dataclasses
import datetime
import html
import os
from pathlib import Path

import numpy as np

from autodeep.report import plots
from autodeep.graph.describe import describe_architecture
from autodeep.report.board import frame
from autodeep.report.project_data import SearchRecord, load_search
from autodeep.search.cohorts import once_per_cohort
from autodeep.storage.files import atomic_write_bytes

#: Section ids and titles, in the page's order.
SECTIONS = {"search-history": "Search history", "leaderboard": "Leaderboard", "exported-model": "Exported model",
            "diagnostics": "Validation diagnostics", "learning-curves": "Learning curves of the best trial",
            "feature-importance": "Permutation feature importance", "time": "Where the time went",
            "data": "The data as autodeep saw it"}
IMPORTANCE_REPEATS = 3
#: How the members of the exported model were trained (the manifest's ``final.kind``), in words.
KINDS = {"refit": "each refit on training + validation rows", "bagged": "each bagged over folds of all rows",
         "trial_weights": "each with its trial's own weights (trained on the training rows)",
         "mixed": "trained in different ways (see the table)"}


@dataclasses.dataclass
class Section:
    """One part of the page: its body, or the one line saying why it does not apply."""

    id: str
    body: str = ""
    skipped: str = ""

    def render(self) -> str:
        content = self.body or f'<p class="skipped">Not shown: {html.escape(self.skipped)}</p>'
        return f'<section id="{self.id}"><h2>{SECTIONS[self.id]}</h2>\n{content}\n</section>'


def image(fig, alt: str) -> str:
    """An ``<img>`` tag with the matplotlib figure ``fig`` embedded as a base64 PNG, so the page opens offline."""
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{plots.png_base64(fig)}">'


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError("The report draws its figures with matplotlib, which is not installed: "
                          "pip install 'autodeep[report]' (or pip install matplotlib==3.11.2).") from error


def write_report(path, out="report.html") -> Path:
    """Write the report of the search in project folder ``path`` to the HTML file ``out``.

    The page holds the search history, the leaderboard, the exported model (each member's layer graph and
    weight), validation diagnostics per head, the best trial's learning curves, permutation importance of
    a table's columns, where the time went and the data as autodeep saw it; a section that does not apply
    says why in one line. Works for finished, interrupted and failed searches.

    Example:
        >>> write_report("autodeep_runs/structured_data_classifier", "report.html")  # doctest: +SKIP
        PosixPath('report.html')
    """
    _require_matplotlib()
    record = load_search(path)
    context = _Context(record)
    builders = (search_history, leaderboard_section, exported_model, diagnostics, learning_curves,
                importance_section, time_section, data_section)
    page = _page(record, [build(context) for build in builders])
    out = Path(out)
    atomic_write_bytes(out, page.encode("utf-8"))
    return out


class _Context:
    """The record plus what several sections share: the loaded exported model (loaded once, if any)."""

    def __init__(self, record: SearchRecord):
        self.record = record
        self._predictor = None
        self.predictor_error = ""

    def predictor(self):
        if self._predictor is None and not self.predictor_error:
            from autodeep.fit.artifact import Predictor

            if self.record.manifest is None:
                self.predictor_error = "no model was exported (the search was interrupted or no trial finished)"
            else:
                try:
                    self._predictor = Predictor.load(self.record.project.artifact_dir)
                except (ValueError, FileNotFoundError, OSError) as error:
                    self.predictor_error = f"the exported model could not be loaded ({error})"
        return self._predictor


# -- sections ------------------------------------------------------------------
def search_history(context: _Context) -> Section:
    """The score of every completed trial against time with the best so far, failed and pruned trials marked."""
    record = context.record
    trials = [t for t in record.trials if t.datetime_start is not None]
    counts = {}
    for t in record.trials:
        counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
    summary = "<p>" + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) + " trial(s).</p>"
    done = [t for t in record.completed if t.datetime_complete is not None]
    if not done:
        return Section("search-history", skipped=f"no trial completed, so there is no score to plot "
                       f"({', '.join(f'{n} {s}' for s, n in sorted(counts.items())) or 'no trials'}).")
    start = min(t.datetime_start for t in trials)
    times = [(t.datetime_complete - start).total_seconds() for t in done]
    failed = [((t.datetime_complete or t.datetime_start) - start).total_seconds() for t in trials
              if t.state.name in ("FAIL", "PRUNED")]
    fig = plots.search_history(times, [t.value for t in done], failed, record.objective,
                               record.direction == "minimize")
    return Section("search-history", summary + image(fig, "score of every trial against time, best so far"))


def leaderboard_section(context: _Context) -> Section:
    """The leaderboard (``autodeep.report.board.frame``) as an HTML table, best trial first."""
    table = frame(context.record)
    if table.empty:
        return Section("leaderboard", skipped="the study holds no trial.")
    body = table.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4g}", classes="leaderboard",
                         border=0)
    return Section("leaderboard", f"<p>{len(table)} trial(s), best first.</p>\n{body}")


def exported_model(context: _Context) -> Section:
    """The exported model: each member's layer diagram and the ensemble members with their weights."""
    record = context.record
    predictor = context.predictor()
    if predictor is None:
        return Section("exported-model", skipped=context.predictor_error + ".")
    final = record.manifest["info"].get("final", {})
    members = record.members()
    kinds = final.get("member_kinds") or ["?"] * len(members)
    params = {t.number: t.params for t in record.trials}
    rows = "".join(f"<tr><td>{n}</td><td>{w:.3f}</td><td>{html.escape(str(k))}</td>"
                   f"<td>{html.escape(describe_architecture(params.get(n, {})))}</td></tr>"
                   for (n, w), k in zip(members.items(), kinds))
    kind = KINDS.get(final.get("kind"), final.get("kind", "model"))
    body = (f"<p>{len(members)} trial(s) averaged with the weights below; {html.escape(str(kind))}; "
            f"{predictor.model.count_params():,} parameters in all.</p>"
            f"<table><tr><th>trial</th><th>weight</th><th>how it was trained</th><th>architecture</th></tr>"
            f"{rows}</table>")
    return Section("exported-model", body + _diagrams(predictor.model, list(members), final))


def _diagrams(model, numbers: list[int], final: dict) -> str:
    """One layer diagram per member: the sub-models of an ensemble in member order, else the model."""
    from autodeep.report.diagram import draw_model

    subs = [layer for layer in model.layers if hasattr(layer, "layers") and hasattr(layer, "inputs")]
    if not subs:
        return image(draw_model(model, f"trial {numbers[0]}"), f"layer graph of trial {numbers[0]}")
    counts = final.get("models_per_member") or [1] * len(numbers)
    starts = np.cumsum([0] + list(counts))[:-1]
    figures = []
    for number, start in zip(numbers, starts):
        if start < len(subs):
            figures.append(image(draw_model(subs[start], f"trial {number}"), f"layer graph of trial {number}"))
    return '<div class="row">' + "\n".join(figures) + "</div>"


def diagnostics(context: _Context) -> Section:
    """Per head, on the validation rows: ROC, precision-recall, confusion and calibration (binary), confusion
    (multiclass), predicted against actual and residuals (regression)."""
    record = context.record
    found = record.validation_predictions()
    if found is None:
        return Section("diagnostics", skipped="no trial saved validation predictions (none completed).")
    predictions, how = found
    parts = [f"<p>From {html.escape(how)}, on the validation rows.</p>"]
    for k, head in enumerate(record.heads()):
        parts.append(f"<h3>{html.escape(head['name'])}</h3>")
        targets = record.validation_targets(k)
        if targets is None or k >= len(predictions):
            parts.append('<p class="skipped">Not shown: the validation targets were not recorded.</p>')
            continue
        parts.append(_head_diagnostics(head, targets, predictions[k]))
    return Section("diagnostics", "\n".join(parts))


def _head_diagnostics(head: dict, y: np.ndarray, p: np.ndarray) -> str:
    fmt, name = head.get("target_format"), head["name"]
    classes = _class_names(head)
    if fmt == "binary":
        if len(np.unique(y)) < 2:
            return '<p class="skipped">Not shown: the validation rows hold one class only.</p>'
        return image(plots.binary_diagnostics(y.reshape(-1).astype(int), p.reshape(-1), classes),
                     f"ROC, precision-recall, confusion matrix and calibration of {name}")
    if fmt in ("sparse", "onehot"):
        labels = y.argmax(axis=1) if y.ndim == 2 else y.astype(int)
        return image(plots.multiclass_diagnostics(labels, p.reshape(len(p), -1), classes),
                     f"confusion matrix of {name}")
    if head.get("task") == "regression":
        actual, predicted = y.reshape(len(y), -1)[:, 0], p.reshape(len(p), -1)[:, 0]
        return image(plots.regression_diagnostics(actual, predicted), f"predicted against actual for {name}")
    return f'<p class="skipped">Not shown: no diagnostics are drawn for {html.escape(str(fmt))} heads.</p>'


def _class_names(head: dict) -> list[str]:
    classes = head.get("classes") or (head.get("codec", {}).get("encoder", {}) or {}).get("classes") or []
    return [str(c) for c in classes] or ["0", "1"]


def learning_curves(context: _Context) -> Section:
    """The best trial's training and validation metrics per epoch, its best epoch marked."""
    best = context.record.best_trial()
    if best is None:
        return Section("learning-curves", skipped="no trial completed.")
    history = context.record.project.load_trial_history(best.number)
    if not history:
        return Section("learning-curves", skipped=f"trial {best.number} saved no history (an older autodeep).")
    fig = plots.learning_curves(history, best.user_attrs.get("best_epoch"))
    return Section("learning-curves", f"<p>Trial {best.number}, per epoch.</p>" + image(fig, "learning curves"))


def importance_section(context: _Context) -> Section:
    """Permutation importance of the columns of a one-table model on the validation rows kept with the search."""
    from autodeep.report.importance import feature_importance

    record = context.record
    rows_path = record.path / "report" / "validation_x.parquet"
    inputs = (record.data or {}).get("inputs", [])
    if len(inputs) != 1 or not inputs[0].get("columns"):
        kinds = [i["kind"] for i in inputs] or "unrecorded"
        return Section("feature-importance", skipped=f"computed for models with one table input; this "
                       f"model's inputs are {kinds}.")
    if context.predictor() is None or not rows_path.is_file() or len(record.heads()) != 1:
        why = context.predictor_error or ("the model has several heads" if len(record.heads()) != 1
                                          else "the validation rows were not recorded")
        return Section("feature-importance", skipped=why + ".")
    import pandas as pd

    from autodeep.blocks.heads import class_indices
    from autodeep.data import TargetCodec

    x = pd.read_parquet(rows_path)
    codec = TargetCodec.from_config(record.heads()[0]["codec"])
    encoded = record.validation_targets(0)[:len(x)]
    y = codec.classes_[class_indices(encoded)] if codec.task == "classification" else codec.decode(encoded)
    table = feature_importance(context.predictor(), x, y, n_repeats=IMPORTANCE_REPEATS)
    fig = plots.horizontal_bars(list(table.index), list(table["importance_mean"]),
                                f"drop in validation {table.attrs['score']} when the column is shuffled",
                                errors=list(table["importance_std"]))
    note = (f"<p>{len(x)} validation rows, {IMPORTANCE_REPEATS} shuffles per column, through the exported model "
            f"(which may have been refit on these rows: read the order, not the size).</p>")
    return Section("feature-importance", note + '<div class="row">' + image(fig, "permutation importance per column")
                   + table.to_html(float_format=lambda v: f"{v:.4f}", border=0) + "</div>")


def time_section(context: _Context) -> Section:
    """Where the seconds went: inside ``model.fit``, the rest of each trial, between trials, refit and export."""
    record = context.record
    trials = [t for t in record.trials if t.datetime_start is not None]
    if not trials:
        return Section("time", skipped="no trial ran.")
    in_fit, in_trials = (once_per_cohort(trials, key) for key in ("fit_seconds", "seconds"))
    seconds = (record.timing or {}).get("seconds")
    if seconds is None:  # interrupted or failed: the search's span from the trials' times
        span = max((t.datetime_complete or t.datetime_start) for t in trials) - min(t.datetime_start for t in trials)
        seconds = {"search": span.total_seconds()}
    parts = {"search: inside model.fit": in_fit, "search: in trials, outside model.fit": in_trials - in_fit,
             "search: between trials (planning, storage)": max(seconds["search"] - in_trials, 0.0)}
    for phase in ("refit", "export"):
        if phase in seconds:
            parts[f"{'refit or bagging' if phase == 'refit' else 'export'} of the final model"] = seconds[phase]
    fig = plots.horizontal_bars(list(parts), list(parts.values()), "seconds",
                                colours=["#4472c4", "#8faadc", "#c9d5ea", "#c0504d", "#9bbb59"][:len(parts)])
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.1f}</td></tr>" for k, v in parts.items())
    missing = "" if record.timing else "<p>The refit and export were not reached (no timing record).</p>"
    return Section("time", missing + '<div class="row">' + image(fig, "seconds per phase")
                   + f"<table>{rows}</table></div>")


def data_section(context: _Context) -> Section:
    """The rows used; per input, each column's inferred type, missing and distinct values; per head, the
    class balance or the target's summary."""
    data = context.record.data
    if not data:
        return Section("data", skipped="the search kept no data record (an older autodeep).")
    parts = [f"<p>{data['rows']['train']} training rows, {data['rows']['validation']} validation rows.</p>"]
    for entry in data["inputs"]:
        parts.append(f"<h3>input {html.escape(entry['name'])} ({html.escape(entry['kind'])})</h3>")
        if entry.get("columns"):
            rows = "".join(f"<tr><td>{html.escape(c['name'])}</td><td>{c['type']}</td><td>{c['missing']}</td>"
                           f"<td>{100 * c['missing'] / max(entry['rows'], 1):.1f}%</td><td>{c['distinct']}</td></tr>"
                           for c in entry["columns"])
            parts.append("<table><tr><th>column</th><th>inferred type</th><th>missing</th><th>missing %</th>"
                         f"<th>distinct values</th></tr>{rows}</table>")
        else:
            parts.append(f"<p>{entry['rows']} rows; no columns to describe for this kind of input.</p>")
    for head in data["heads"]:
        parts.append(f"<h3>target {html.escape(head['name'])} ({html.escape(head['task'])})</h3>")
        if head.get("counts"):
            fig = plots.horizontal_bars(head["classes"], head["counts"], "rows")
            parts.append(image(fig, f"class balance of {head['name']}"))
        elif head.get("summary"):
            parts.append("<p>" + ", ".join(f"{k} {v:.4g}" for k, v in head["summary"].items()) + "</p>")
    return Section("data", "\n".join(parts))


# -- page ----------------------------------------------------------------------
STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}h3{font-size:1em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .5em;
text-align:left}th{background:#f3f3f3}img{max-width:100%;display:block;margin:.5em 0}
.skipped{color:#777;font-style:italic}nav a{margin-right:1em}
.row{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}.row img{max-width:48%}"""


def _page(record: SearchRecord, sections: list[Section]) -> str:
    best = record.best_trial()
    best_text = f"best {record.objective} {best.value:.5g} (trial {best.number})" if best else "no completed trial"
    task = ((record.manifest or {}).get("info") or {}).get("task", "")
    nav = "".join(f'<a href="#{s.id}">{SECTIONS[s.id]}</a>' for s in sections)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>autodeep report: "
            f"{html.escape(record.study_name)}</title><style>{STYLE}</style></head><body>\n"
            f"<h1>autodeep report: {html.escape(record.study_name)}</h1>\n"
            f"<p>{html.escape(str(record.path.resolve()))}{os.linesep if not task else ' · ' + html.escape(task)}"
            f" · {len(record.trials)} trial(s) · {html.escape(best_text)} · written {stamp}</p>\n<nav>{nav}</nav>\n"
            + "\n".join(s.render() for s in sections) + "\n</body></html>\n")
