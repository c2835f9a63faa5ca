"""Which Keras backend autodeep runs on, chosen from ``KERAS_BACKEND`` before Keras is imported.

Keras reads ``KERAS_BACKEND`` once, at its first import; when the variable is unset or empty it falls
back to ``~/.keras/keras.json`` (``"tensorflow"`` unless edited), so ``export KERAS_BACKEND=`` in a
shell script used to fail deep inside Keras with ``No module named 'tensorflow'``. Here an empty (or
blank) value counts as unset and JAX is used, and a value autodeep cannot train with fails at once
with an error that names the variable, its value and what to install.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path
from typing import MutableMapping

DEFAULT = "jax"
CACHE_LIMIT = 1 << 30  # bytes of compiled programs kept on disk; the least recently used go first

#: Backends autodeep trains with, and how to install each one's package.
INSTALL = {
    "jax": "pip install 'jax[cpu]==0.10.2'",
    "torch": "pip install 'autodeep[torch]' (torch 2.13.0)",
    "tensorflow": "pip install tensorflow",
}
#: Keras backends that only run inference: autodeep cannot search or train with them.
INFERENCE_ONLY = ("numpy", "openvino")
CHOICES = "'jax' (the default), 'torch' or 'tensorflow'"


def choose_backend(environ: MutableMapping[str, str] | None = None) -> str:
    """Set ``KERAS_BACKEND`` in ``environ`` (``os.environ`` by default) to the backend to use; return it.

    Unset, empty or blank: ``"jax"``. Otherwise the value, stripped, if autodeep trains with it and its
    package is installed; else a ``ValueError`` (unknown name) or ``ModuleNotFoundError`` (package missing)
    naming ``KERAS_BACKEND``.

    Example:
        >>> env = {"KERAS_BACKEND": ""}
        >>> choose_backend(env), env["KERAS_BACKEND"]
        ('jax', 'jax')
        >>> choose_backend({"KERAS_BACKEND": "pytorch"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: KERAS_BACKEND='pytorch' is not a backend autodeep can train with: set it to 'jax' (the default), ...
    """
    environ = os.environ if environ is None else environ
    name = (environ.get("KERAS_BACKEND") or "").strip() or DEFAULT
    if name not in INSTALL:
        why = f" (Keras's {name!r} backend only runs inference)" if name in INFERENCE_ONLY else ""
        raise ValueError(f"KERAS_BACKEND={environ.get('KERAS_BACKEND')!r} is not a backend autodeep can train "
                         f"with{why}: set it to {CHOICES}, or unset it.")
    if importlib.util.find_spec(name) is None:
        raise ModuleNotFoundError(
            f"KERAS_BACKEND={environ.get('KERAS_BACKEND', name)!r} asks for the {name} backend, but the "
            f"{name!r} package is not installed: {INSTALL[name]}; or set KERAS_BACKEND to "
            f"{' or '.join(repr(n) for n in INSTALL if n != name)}, or unset it (JAX).", name=name)
    environ["KERAS_BACKEND"] = name
    return name


def use_compilation_cache(environ: MutableMapping[str, str] | None = None) -> str | None:
    """Keep JAX's compiled programs on disk, so a network of shapes compiled before (a known-good start, a
    trial's fold models and refit, the same search run again or resumed, a worker) is not compiled again.

    On a CPU compiling is most of a small network's first seconds: a 2x256 MLP on 800 rows took 1.65 s per
    new model for 2 epochs, and 0.27 s with its programs in the cache. The folder is
    ``$XDG_CACHE_HOME/autodeep/jax`` (``~/.cache/autodeep/jax``), pruned to ``CACHE_LIMIT`` bytes here, once per
    process (``prune_cache``): JAX's own size limit reads every entry's access time at each write. A cache the
    user configured for JAX (``JAX_COMPILATION_CACHE_DIR``) is kept as it is, and
    ``JAX_ENABLE_COMPILATION_CACHE=false`` turns it off. Returns the folder in use, or ``None`` (another
    backend, the cache turned off, or a folder that cannot be written). Idempotent.

    Example:
        >>> use_compilation_cache({"KERAS_BACKEND": "torch"}) is None
        True
    """
    environ = os.environ if environ is None else environ
    if environ.get("KERAS_BACKEND") != "jax":
        return None
    import jax

    if not jax.config.jax_enable_compilation_cache:
        return None
    if jax.config.jax_compilation_cache_dir:
        return jax.config.jax_compilation_cache_dir
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "autodeep" / "jax"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # a small network compiles in < 1 s
    prune_cache(folder, CACHE_LIMIT)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    return str(folder)


def prune_cache(folder: str | Path, limit: int) -> int:
    """Delete the least recently used compiled programs (JAX's ``*-cache`` files) in ``folder`` until it holds at
    most ``limit`` bytes of them; returns the bytes freed.

    Example:
        >>> import os, tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for age, name in enumerate(["new", "mid", "old"]):
        ...     _ = (folder / f"{name}-cache").write_bytes(b"x" * 10)
        ...     os.utime(folder / f"{name}-cache", (1e9 - age, 1e9 - age))
        >>> prune_cache(folder, limit=20), sorted(p.name for p in folder.iterdir())
        (10, ['mid-cache', 'new-cache'])
    """
    entries = []
    for path in Path(folder).glob("*-cache"):
        with contextlib.suppress(OSError):
            stat = path.stat()
            entries.append((max(stat.st_atime, stat.st_mtime), stat.st_size, path))
    excess = sum(size for _, size, _ in entries) - limit
    freed = 0
    for _, size, path in sorted(entries):
        if freed >= excess:
            break
        with contextlib.suppress(OSError):
            path.unlink()
            path.with_name(path.name.removesuffix("-cache") + "-atime").unlink(missing_ok=True)  # older JAX LRU
            freed += size
    return freed
