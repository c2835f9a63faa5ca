"""What a search shows while it runs: one plain line per trial, or a live status on a terminal.

On a terminal (``sys.stdout.isatty()``) a ``rich`` live display shows the elapsed time against
``time_limit``, the trials done against ``max_trials``, the best score and the running trial's
epoch; finished trials scroll above it as plain lines. Elsewhere (CI logs, files, notebooks'
captured output) only the plain lines are printed. Trials are named by Optuna's trial number,
as their folders (``trials/trial_0003``), the leaderboard and the report are.
"""

from __future__ import annotations

import atexit
import math
import sys
import time


class SearchProgress:
    """Progress of one search, fed by the Searcher (trial ends) and a Keras callback (epochs).

    Args:
        max_trials: The search's budget of trials.
        time_limit: The user's ``time_limit`` in seconds (the budget shown; it never changes), or None.
        objective: The name of the score, shown beside the best value.
        started: ``time.time()`` when the budget started (``fit`` was called); the first event if None.
        live: True: a rich live display; False: plain lines; None: live when ``stream`` is a terminal.
        stream: Where to write; ``sys.stdout`` at the time of writing if None.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> progress = SearchProgress(max_trials=3, time_limit=60, objective="val_loss", stream=out)
        >>> progress.trial_ended(number=0, outcome="score=0.5", seconds=1.0, done=1, best=(0.5, 0))
        >>> out.getvalue().split(" elapsed")[0]
        '[autodeep] trial 0 (1/3) score=0.5 best=0.5 (trial 0) trial 1.0s'
    """

    def __init__(self, max_trials: int | None = None, time_limit: float | None = None, objective: str = "score",
                 started: float | None = None, live: bool | None = None, stream=None):
        self.max_trials = max_trials
        self.time_limit = time_limit
        self.objective = objective
        self.started = started
        self.live = live
        self.stream = stream
        self.done = 0
        self.best: tuple[float, int] | None = None
        self.running: dict | None = None  # {"trial", "epoch", "value"} of the trial being trained
        self._live = None

    def __getstate__(self) -> dict:
        """Pickled into worker processes: plain lines there, no terminal state."""
        return {**self.__dict__, "live": False, "stream": None, "_live": None}

    # -- events ------------------------------------------------------------------
    def trial_ended(self, number: int, outcome: str, seconds: float, done: int,
                    best: tuple[float, int] | None = None, max_trials: int | None = None) -> None:
        """Trial ``number`` ended (``outcome``: "score=...", "pruned", "failed (...)")."""
        if self.started is None:
            self.started = time.time() - seconds
        self.done, self.best, self.running = done, best, None
        self.max_trials = max_trials or self.max_trials
        best_text = f"best={best[0]:.5g} (trial {best[1]})" if best else "best=n/a"
        total = f"/{self.max_trials}" if self.max_trials else ""
        line = (f"[autodeep] trial {number} ({done}{total}) {outcome} {best_text} trial {seconds:.1f}s "
                f"elapsed {self._elapsed_text()}")
        if self._live is not None:
            self._live.console.print(line, markup=False, highlight=False, soft_wrap=True)
            self._live.refresh()
        else:
            print(line, file=self.stream or sys.stdout, flush=True)

    def epoch_ended(self, number: int, epoch: int, logs: dict | None = None) -> None:
        """Trial ``number`` finished its ``epoch`` (1-based); ``logs`` are Keras' epoch logs."""
        value = (logs or {}).get(self.objective)
        self.running = {"trial": number, "epoch": epoch, "value": value}
        if self._live is not None:
            self._live.refresh()

    def trial_started(self, number: int) -> None:
        """Trial ``number`` started training: the live display starts with the first one."""
        if self.started is None:
            self.started = time.time()
        self.running = {"trial": number, "epoch": 0, "value": None}
        if self._is_live() and self._live is None:
            self._start_live()

    def callback(self, number: int):
        """A Keras callback reporting trial ``number``'s epochs to this progress."""
        import keras

        progress = self

        class Epochs(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                progress.trial_started(number)

            def on_epoch_end(self, epoch, logs=None):
                progress.epoch_ended(number, epoch + 1, logs)

        return Epochs()

    # -- display -----------------------------------------------------------------
    def _elapsed_text(self) -> str:
        elapsed = time.time() - (self.started or time.time())
        budget = f"/{self.time_limit:.0f}s" if self.time_limit else "s"
        return f"{elapsed:.0f}{budget}"

    def _is_live(self) -> bool:
        if self.live is not None:
            return self.live
        stream = self.stream or sys.stdout
        return bool(getattr(stream, "isatty", lambda: False)())

    def _start_live(self) -> None:
        from rich.console import Console
        from rich.live import Live

        console = Console(file=self.stream or sys.stdout)
        self._live = Live(_Status(self), console=console, refresh_per_second=2, transient=True,
                          redirect_stdout=True, redirect_stderr=True)
        self._live.start(refresh=True)
        atexit.register(self.close)

    def status_text(self) -> str:
        """The live display's words: elapsed/time_limit, trials done/max_trials, best, the running epoch.

        Example:
            >>> p = SearchProgress(max_trials=5, time_limit=60, objective="val_loss", started=0.0)
            >>> p.done, p.best, p.running = 2, (0.4, 1), {"trial": 2, "epoch": 3, "value": 0.45}
            >>> p.status_text().split("   ")[1:]
            ['trials 2/5', 'best val_loss 0.4 (trial 1)', 'trial 2: epoch 3, val_loss 0.45']
        """
        parts = [f"elapsed {self._elapsed_text()}", f"trials {self.done}/{self.max_trials or '?'}"]
        parts.append(f"best {self.objective} {self.best[0]:.5g} (trial {self.best[1]})" if self.best
                     else f"best {self.objective} n/a")
        if self.running is not None:
            value = self.running["value"]
            shown = f", {self.objective} {value:.5g}" if isinstance(value, (int, float)) and math.isfinite(value) \
                else ""
            epoch = f"epoch {self.running['epoch']}" if self.running["epoch"] else "first epoch running"
            parts.append(f"trial {self.running['trial']}: {epoch}{shown}")
        return "   ".join(parts)

    def close(self) -> None:
        """Stop the live display (the plain lines stay)."""
        if self._live is not None:
            live, self._live = self._live, None
            live.stop()

    def __enter__(self) -> "SearchProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Status:
    """The live display's renderable: a time (or trial) bar and the status words, redrawn on refresh."""

    def __init__(self, progress: SearchProgress):
        self.progress = progress

    def __rich__(self):
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        p = self.progress
        elapsed = time.time() - (p.started or time.time())
        total, done = (p.time_limit, min(elapsed, p.time_limit)) if p.time_limit else (p.max_trials, p.done)
        grid = Table.grid(padding=(0, 1))
        grid.add_row(Text("autodeep", style="bold"), ProgressBar(total=total or None, completed=done, width=30),
                     Text(p.status_text()))
        return grid
