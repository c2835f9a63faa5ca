"""Workers: several processes, or machines, run the trials of one search.

``fit`` *publishes* its search: the Searcher, the trial (an object whose
``probe`` and ``run`` the loop calls: ``autodeep.fit.trial.TrialRun``) and the
deadline (``autodeep.fit.budget.Budget``), serialised with cloudpickle into
``<project>/workers/payload.pkl``, the preprocessed arrays beside it as
``.npy`` files (workers map them read-only instead of copying them), and the
payload's path in the study's user attributes. ``autodeep worker --study URL``
loads that payload and runs the same loop until the study's budget is used.

The payload is a pickle: only trusted processes of the same user should read
it (workers are). Exported artifacts never contain pickles.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna

from autodeep.search.searcher import SearchFailed, Searcher

PAYLOAD_ATTR = "autodeep_payload"
CODE_ATTR = "autodeep_code"  # the fingerprint of the autodeep code that published the search
MAX_TRIALS_ATTR = "autodeep_max_trials"
DEADLINE_ATTR = "autodeep_deadline"
PACKAGE = Path(__file__).resolve().parents[1]  # the autodeep package folder
ARRAY_BYTES = 1 << 16  # arrays at least this large go to .npy files, mapped by the workers


class _Pickler:
    """cloudpickle, with large numeric arrays written to ``.npy`` files instead of the pickle."""

    def __init__(self, folder: Path):
        import cloudpickle

        self.folder = folder
        self.saved: dict[int, str] = {}
        outer = self

        class Pickler(cloudpickle.Pickler):
            def persistent_id(self, obj):
                return outer.array_id(obj)

        self.pickler_class = Pickler

    def array_id(self, obj):
        if not isinstance(obj, np.ndarray) or obj.dtype.hasobject or obj.nbytes < ARRAY_BYTES:
            return None
        if id(obj) not in self.saved:
            name = f"array_{len(self.saved):04d}.npy"
            np.save(self.folder / name, np.ascontiguousarray(obj), allow_pickle=False)
            self.saved[id(obj)] = name
        return ("npy", self.saved[id(obj)])

    def dumps(self, obj) -> bytes:
        buffer = io.BytesIO()
        self.pickler_class(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
        return buffer.getvalue()


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, folder: Path):
        super().__init__(file)
        self.folder = folder

    def persistent_load(self, pid):
        kind, name = pid
        if kind != "npy":
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return np.load(self.folder / name, mmap_mode="r", allow_pickle=False)


def save_payload(folder, payload: dict) -> Path:
    """Write ``payload`` (callables included) to ``folder/payload.pkl``, large arrays as ``.npy`` files.

    Example:
        >>> import tempfile, numpy as np
        >>> path = save_payload(tempfile.mkdtemp(), {"x": np.zeros((100, 100)), "f": lambda v: v + 1})
        >>> loaded = load_payload(path); loaded["f"](1), type(loaded["x"]).__name__
        (2, 'memmap')
    """
    folder = Path(folder).resolve()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    try:
        data = _Pickler(folder).dumps(payload)
    except Exception as error:
        raise TypeError(f"The search cannot be handed to worker processes: part of it cannot be pickled "
                        f"({type(error).__name__}: {error}). Custom blocks and callbacks must be importable "
                        f"by the workers, or defined in the __main__ script.") from error
    (folder / "payload.pkl").write_bytes(data)
    return folder / "payload.pkl"


def load_payload(path) -> dict:
    """Read a payload written by :func:`save_payload`; arrays come back memory-mapped, read-only."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"The search payload {path} does not exist: workers need the project directory "
                                f"of the search at the same path (a shared filesystem across machines).")
    with open(path, "rb") as handle:
        return _Unpickler(handle, path.parent).load()


def publish_search(searcher: Searcher, trial, deadline, folder) -> optuna.Study:
    """Write the payload (exactly ``searcher``, ``trial`` and ``deadline``) and register it, the budget and the
    deadline in the study's user attributes."""
    study = searcher.open_study()
    path = save_payload(folder, {"searcher": searcher, "trial": trial, "deadline": deadline})
    study.set_user_attr(PAYLOAD_ATTR, str(path))
    study.set_user_attr(CODE_ATTR, code_fingerprint())
    study.set_user_attr(MAX_TRIALS_ATTR, searcher.max_trials)
    fixed = deadline(study) if callable(deadline) else deadline
    study.set_user_attr(DEADLINE_ATTR, fixed)
    return study


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A short hash of the autodeep package's Python sources: a worker runs a published search only with the same
    code (the payload pickles objects of that code; ``__version__`` does not change between commits).

    Example:
        >>> len(code_fingerprint()), code_fingerprint() == code_fingerprint()
        (16, True)
    """
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _study_name(storage, study_name: str | None) -> str:
    if study_name:
        return study_name
    names = optuna.get_all_study_names(storage)
    if len(names) != 1:
        raise ValueError(f"--study-name is needed: the storage holds {len(names)} studies ({names[:10]}).")
    return names[0]


def run_worker(study: str, study_name: str | None = None, verbose: int = 1) -> optuna.Study:
    """Run trials of a published search until its budget is used; return the study.

    Args:
        study: The study's storage URL (``postgresql+psycopg2://...``, ``sqlite:////abs/path/study.db``).
        study_name: The study inside the storage; needed when it holds more than one.
        verbose: 1 prints one line per trial.

    Example:
        >>> run_worker("postgresql+psycopg2://user@db-host/autodeep", "credit")  # doctest: +SKIP
    """
    storage = Searcher(storage=study).open_storage()
    name = _study_name(storage, study_name)
    attrs = optuna.load_study(study_name=name, storage=storage).user_attrs
    if PAYLOAD_ATTR not in attrs:
        raise ValueError(f"The study {name!r} was not published for workers: start the search with "
                         f"n_workers > 1 or a storage URL (AutoModel(storage=..., ...)).")
    published, here = attrs.get(CODE_ATTR), code_fingerprint()
    if published != here:
        raise RuntimeError(f"The search {name!r} was published by other autodeep code (fingerprint {published}) than "
                           f"this worker runs ({here}, the autodeep at {PACKAGE}): install the same autodeep on "
                           f"every worker machine, then start the worker again.")
    payload = load_payload(attrs[PAYLOAD_ATTR])
    searcher: Searcher = payload["searcher"]
    searcher.storage = study
    searcher.max_trials = int(attrs.get(MAX_TRIALS_ATTR, searcher.max_trials))
    searcher.fail_running = False  # other processes may be running trials right now
    searcher.wait_for_workers = False  # the process that called fit waits and exports
    searcher.verbose = verbose
    use_mixed_precision_on_gpu()
    trial = payload["trial"]
    return searcher.run(trial.probe, trial.run, deadline=payload["deadline"], cohort=trial)


# -- processes, threads and devices ----------------------------------------------
def worker_environment(threads: int | None = None, gpu: str | None = None, base: dict | None = None) -> dict:
    """Environment for a worker process: its CPU threads and its GPU, read when Keras is imported.

    Example:
        >>> env = worker_environment(threads=2, gpu="1", base={})
        >>> env["OMP_NUM_THREADS"], env["CUDA_VISIBLE_DEVICES"]
        ('2', '1')
    """
    env = dict(os.environ if base is None else base)
    if threads:
        n = str(int(threads))
        for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
            env[key] = n
        env["TF_NUM_INTEROP_THREADS"] = "1"
        flags = [f for f in env.get("XLA_FLAGS", "").split() if "multi_thread_eigen" not in f
                 and "intra_op_parallelism_threads" not in f]
        env["XLA_FLAGS"] = " ".join(flags + ["--xla_cpu_multi_thread_eigen=false",
                                             f"intra_op_parallelism_threads={n}"])
        env["AUTODEEP_WORKER_THREADS"] = n
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = str(gpu)
    return env


def visible_gpus() -> list[str]:
    """GPU ids this process may hand to workers: ``CUDA_VISIBLE_DEVICES``, else what ``nvidia-smi`` lists."""
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        ids = [g.strip() for g in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if g.strip()]
        return [] if ids in ([], ["-1"]) else ids
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(l for l in out.splitlines() if l.startswith("GPU"))]


def set_backend_threads() -> None:
    """Limit the torch backend's threads to ``AUTODEEP_WORKER_THREADS`` (JAX/TF read the environment)."""
    threads = os.environ.get("AUTODEEP_WORKER_THREADS")
    if threads and os.environ.get("KERAS_BACKEND") == "torch":
        import torch

        torch.set_num_threads(int(threads))


def gpu_visible() -> bool:
    """Whether the Keras backend of this process sees a GPU."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            return any(d.platform == "gpu" for d in jax.devices())
        if backend == "torch":
            import torch

            return torch.cuda.is_available()
        if backend == "tensorflow":
            import tensorflow as tf

            return bool(tf.config.list_physical_devices("GPU"))
    except Exception:  # a broken GPU install: train on the CPU
        return False
    return False


def use_mixed_precision_on_gpu() -> bool:
    """Switch Keras to ``mixed_float16`` when a GPU is visible (``AUTODEEP_MIXED_PRECISION=0`` opts out)."""
    if os.environ.get("AUTODEEP_MIXED_PRECISION", "1") == "0" or not gpu_visible():
        return False
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16")
    return True


def start_workers(n: int, study: str, study_name: str, threads: int | None = None,
                  verbose: int = 0) -> list[subprocess.Popen]:
    """Start ``n`` ``autodeep worker`` processes on this machine, each with its share of CPUs and a GPU."""
    gpus = visible_gpus()
    processes = []
    for i in range(1, n + 1):  # the calling process, worker 0, keeps the first GPU
        gpu = gpus[i % len(gpus)] if gpus else None
        command = [sys.executable, "-m", "autodeep.cli", "worker", "--study", study, "--study-name", study_name]
        if not verbose:
            command.append("--quiet")
        processes.append(subprocess.Popen(command, env=worker_environment(threads, gpu)))
    return processes


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_with_workers(searcher: Searcher, trial, deadline, n_workers: int, folder, verbose: int = 0) -> optuna.Study:
    """Publish the search, start ``n_workers - 1`` worker processes, run one loop here, and wait for all.

    The returned study holds every worker's trials; the caller refits and exports.
    """
    publish_search(searcher, trial, deadline, folder)
    processes = []
    if n_workers > 1:
        processes = start_workers(n_workers - 1, searcher.storage, searcher.study_name,
                                  threads=max(1, cpu_count() // n_workers), verbose=verbose)
    try:
        study = searcher.run(trial.probe, trial.run, deadline=deadline, cohort=trial)
    except BaseException:
        _stop(processes, timeout=0.0)
        raise
    _stop(processes, timeout=60.0)
    return study


def _stop(processes: list, timeout: float) -> None:
    """Let workers end on their own (the budget is used) within ``timeout`` seconds, then stop them."""
    end = time.time() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.0, end - time.time()))
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


__all__ = ["SearchFailed", "load_payload", "publish_search", "run_with_workers", "run_worker", "save_payload",
           "start_workers", "use_mixed_precision_on_gpu", "visible_gpus", "worker_environment"]
