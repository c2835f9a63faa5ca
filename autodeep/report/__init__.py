"""See a search: its leaderboard, an HTML report, permutation feature importance.

Everything here reads a project folder (``<directory>/<project_name>``: ``study.db``, ``trials/``,
``report/`` and ``best_model/``), so it works for a finished, an interrupted or a failed search, from
Python or from the command line (``autodeep leaderboard PROJECT_DIR``, ``autodeep report PROJECT_DIR``).
"""

__all__ = ["feature_importance", "leaderboard", "write_report"]


def __getattr__(name):
    """The report's functions, imported on first use (matplotlib and Keras stay unloaded until then)."""
    if name == "leaderboard":
        from autodeep.report.board import leaderboard

        return leaderboard
    if name == "write_report":
        from autodeep.report.html_report import write_report

        return write_report
    if name == "feature_importance":
        from autodeep.report.importance import feature_importance

        return feature_importance
    raise AttributeError(f"module 'autodeep.report' has no attribute {name!r}")
