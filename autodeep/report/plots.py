"""The report's figures, drawn with matplotlib's object API (no pyplot, no display needed)."""

from __future__ import annotations

import base64
import io

import numpy as np


def figure(n_plots: int = 1, width: float = 4.2, height: float = 3.2):
    """A ``Figure`` with ``n_plots`` axes side by side."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * n_plots, height), layout="constrained")
    axes = fig.subplots(1, n_plots, squeeze=False)[0]
    return fig, list(axes)


def png_base64(fig) -> str:
    """``fig`` as a base64 PNG (for an ``<img src="data:image/png;base64,...">``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, facecolor="white")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def search_history(times, values, failed_times, objective: str, minimize: bool):
    """Each completed trial's score against the seconds since the search started, and the best so far."""
    fig, (ax,) = figure(width=7.5, height=3.4)
    order = np.argsort(times)
    times, values = np.asarray(times)[order], np.asarray(values)[order]
    best = np.minimum.accumulate(values) if minimize else np.maximum.accumulate(values)
    ax.scatter(times, values, color="#4472c4", zorder=3, label="trial")
    ax.step(times, best, where="post", color="#c0504d", label="best so far")
    for t in failed_times:
        ax.axvline(t, color="#999", lw=0.8, ls=":")
    if failed_times:
        ax.plot([], [], color="#999", lw=0.8, ls=":", label="failed or pruned trial")
    ax.set_xlabel("seconds since the search started")
    ax.set_ylabel(objective)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def learning_curves(history: dict[str, list[float]], best_epoch: int | None):
    """Loss and each metric per epoch, training and validation, the kept epoch marked."""
    bases = [k for k in history if not k.startswith("val_") and k not in ("learning_rate", "lr")]
    bases = [b for b in bases if history[b]] or [k.removeprefix("val_") for k in history if k.startswith("val_")]
    fig, axes = figure(len(bases), width=3.8, height=3.0)
    for ax, base in zip(axes, bases):
        for key, label in ((base, "training"), (f"val_{base}", "validation")):
            if history.get(key):
                epochs = np.arange(1, len(history[key]) + 1)
                ax.plot(epochs, history[key], marker="o", ms=3, label=label)
        if best_epoch:
            ax.axvline(best_epoch, color="#999", ls="--", lw=1, label=f"kept epoch {best_epoch}")
        ax.set_title(base, fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return fig


def confusion(ax, matrix: np.ndarray, classes: list[str], title: str) -> None:
    """A confusion matrix (rows: true class, columns: predicted) with its counts written in."""
    ax.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, classes, rotation=45 if len(classes) > 4 else 0, ha="right" if len(classes) > 4 else "center",
                  fontsize=8)
    ax.set_yticks(ticks, classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    limit = matrix.max() / 2 if matrix.size else 0
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(int(count)), ha="center", va="center", fontsize=8,
                color="white" if count > limit else "black")


def binary_diagnostics(y: np.ndarray, p: np.ndarray, classes: list[str]):
    """ROC and precision-recall curves, the confusion matrix at 0.5, and the calibration curve."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import auc, confusion_matrix, precision_recall_curve, roc_curve

    fig, (roc_ax, pr_ax, cm_ax, cal_ax) = figure(4, width=3.4, height=3.2)
    fpr, tpr, _ = roc_curve(y, p)
    roc_ax.plot(fpr, tpr, label=f"AUC {auc(fpr, tpr):.3f}")
    roc_ax.plot([0, 1], [0, 1], color="#999", ls="--", lw=1)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    precision, recall, _ = precision_recall_curve(y, p)
    pr_ax.plot(recall, precision, label=f"positive rate {y.mean():.2f}")
    pr_ax.set(xlabel="recall", ylabel="precision", title=f"precision-recall ({classes[1]})")
    confusion(cm_ax, confusion_matrix(y, (p >= 0.5).astype(int), labels=[0, 1]), classes, "confusion at 0.5")
    true_rate, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    cal_ax.plot(predicted, true_rate, marker="o", ms=3)
    cal_ax.plot([0, 1], [0, 1], color="#999", ls="--", lw=1)
    cal_ax.set(xlabel="predicted probability", ylabel="observed rate", title="calibration")
    for ax in (roc_ax, pr_ax):
        ax.legend(fontsize=8)
    for ax in (roc_ax, pr_ax, cal_ax):
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
    return fig


def multiclass_diagnostics(y: np.ndarray, p: np.ndarray, classes: list[str]):
    from sklearn.metrics import confusion_matrix

    size = min(3.2 + 0.35 * len(classes), 12)
    fig, (ax,) = figure(width=size, height=size)
    confusion(ax, confusion_matrix(y, p.argmax(axis=1), labels=np.arange(len(classes))), classes,
              "confusion (most probable class)")
    return fig


def regression_diagnostics(y: np.ndarray, p: np.ndarray):
    """Predicted against actual values, and the residuals against the predictions."""
    fig, (ax, res_ax) = figure(2, width=4.0, height=3.4)
    ax.scatter(y, p, s=8, alpha=0.6)
    low, high = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    ax.plot([low, high], [low, high], color="#999", ls="--", lw=1)
    ax.set(xlabel="actual", ylabel="predicted", title="predicted against actual")
    res_ax.scatter(p, y - p, s=8, alpha=0.6)
    res_ax.axhline(0, color="#999", ls="--", lw=1)
    res_ax.set(xlabel="predicted", ylabel="actual - predicted", title="residuals")
    for a in (ax, res_ax):
        a.title.set_fontsize(9)
        a.grid(alpha=0.3)
    return fig


def horizontal_bars(labels: list[str], values: list[float], xlabel: str, errors=None, colours=None):
    """One bar per label, top to bottom in the given order."""
    fig, (ax,) = figure(width=7.0, height=0.8 + 0.28 * len(labels))
    positions = np.arange(len(labels))[::-1]
    ax.barh(positions, values, xerr=errors, color=colours or "#4472c4", capsize=2)
    ax.set_yticks(positions, labels, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3, axis="x")
    return fig
