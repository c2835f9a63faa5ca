"""Trials trained together (issue 22, item 3): k candidates of one shape as one vmapped JAX program.

    python benchmarks/cohort_study.py --datasets credit-g kc1 phoneme   # writes benchmarks/results/cohort_study.md

Per dataset: the benchmark's 80/20 split (seed 0), the training part split again 80/20 into fit and validation
rows as the search does, and autodeep's ``TabularPreprocessor`` fit on the fit rows. The k candidates are the
default table network (periodic numeric embeddings, categorical embeddings, 2 x 256 ReLU with dropout 0.1, a
sigmoid output, AdamW with weight decay 1e-4, the trainer's batch size) and differ in what one vmapped program can
hold apart: the initial weights (a seed each), the learning rate (an optimizer variable) and the periodic
embedding's frequency scale (read only when the weights are initialised). Both ways train them as the trainer
does: early stopping on the validation loss (patience 10, best weights kept) and the learning rate times 0.3
after 4 epochs without an improvement of 1e-4 (Keras' ``ReduceLROnPlateau``).

- ``sequential``: one Keras model per candidate, built, compiled and trained by ``model.fit`` one after the
  other, as the search trains trials today;
- ``cohort``: autodeep's cohort trainer (``autodeep.train.cohort.fit_cohort``, what ``cohort_size`` uses): the
  candidates' weights and optimizer states stacked on a leading axis and trained by one ``jax.vmap`` of the
  training step on the same batches, an epoch's full batches in one ``jax.lax.scan`` (one dispatch instead of one
  per step) and the last partial batch in a second call; each member is early-stopped on its own validation loss
  (its best weights kept) and the run ends when every member has stopped;
- ``scanned``: each candidate alone through the cohort trainer, one after the other: what the scan over an epoch
  gains without training candidates together.

Each way's seconds include predicting the validation rows once (a trial saves them); the AUCs are computed after.

JAX's compilation cache on disk is off, so every new program compiles, as a trial of a new shape does. Reported:
wall seconds (building and compiling included), candidates per minute, and the members' validation and test AUC,
so that the cohort is seen to train the same candidates as well, not cheaper ones.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ["KERAS_BACKEND"] = "jax"
os.environ["JAX_ENABLE_COMPILATION_CACHE"] = "false"

import numpy as np

import _common as C

LEARNING_RATES = (1e-3, 3e-3, 3e-4, 1e-4)  # the search space's choices
FREQUENCY_SCALES = (0.3, 0.03, 0.1, 1.0, 3.0)
PATIENCE, MAX_EPOCHS = 10, 300


def candidates(k: int) -> list[dict]:
    """``k`` candidates: a seed each, learning rates and frequency scales taken in turn from the search's choices.

    >>> [c["learning_rate"] for c in candidates(5)]
    [0.001, 0.003, 0.0003, 0.0001, 0.001]
    """
    return [{"seed": i, "learning_rate": LEARNING_RATES[i % len(LEARNING_RATES)],
             "frequency_scale": FREQUENCY_SCALES[i % len(FREQUENCY_SCALES)]} for i in range(k)]


def build(candidate: dict, n_numerical: int, cardinalities: list[int]):
    """The default table network of ``candidate``, compiled as a trial's."""
    import keras

    from autodeep.blocks.layers import CategoricalEmbedding, PeriodicEmbedding

    keras.utils.set_random_seed(candidate["seed"])
    numerical = keras.Input((n_numerical,), name="numerical")
    categorical = keras.Input((len(cardinalities),), dtype="int32", name="categorical")
    parts = [PeriodicEmbedding(48, candidate["frequency_scale"], 16)(numerical)]
    if cardinalities:
        parts.append(CategoricalEmbedding(cardinalities, 8)(categorical))
    h = keras.layers.Concatenate()(parts) if len(parts) > 1 else parts[0]
    for _ in range(2):
        h = keras.layers.Dropout(0.1)(keras.layers.Dense(256, activation="relu")(h))
    model = keras.Model([numerical, categorical], keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile(keras.optimizers.AdamW(candidate["learning_rate"], weight_decay=1e-4), "binary_crossentropy")
    return model


def sequential(cands, data, batch_size: int) -> tuple[list, list[int]]:
    """Each candidate trained by ``model.fit`` and its validation rows predicted, as a trial does; returns the
    models and the epochs run."""
    import keras

    from autodeep.train.trainer import MIN_LEARNING_RATE, PLATEAU_DELTA, PLATEAU_FACTOR, plateau_patience

    (x_fit, y_fit), (x_val, y_val), _, cards = data
    models, epochs = [], []
    for candidate in cands:
        model = build(candidate, x_fit["numerical"].shape[1], cards)
        history = model.fit(x_fit, y_fit, validation_data=(x_val, y_val), epochs=MAX_EPOCHS, batch_size=batch_size,
                            verbose=0, callbacks=[
                                keras.callbacks.ReduceLROnPlateau(factor=PLATEAU_FACTOR, patience=plateau_patience(
                                    PATIENCE), min_delta=PLATEAU_DELTA, min_lr=MIN_LEARNING_RATE),
                                keras.callbacks.EarlyStopping(patience=PATIENCE, restore_best_weights=True)])
        model.predict(x_val, verbose=0, batch_size=1024)
        models.append(model)
        epochs.append(len(history.history["loss"]))
    return models, epochs


def cohort(cands, data, batch_size: int, seed: int = 0) -> tuple[list, list[int]]:
    """The candidates trained together by autodeep's cohort trainer (``autodeep.train.cohort``, validation
    predictions included); returns what ``sequential`` does."""
    from autodeep.train.cohort import fit_cohort

    (x_fit, y_fit), validation, _, cards = data
    models = [build(c, x_fit["numerical"].shape[1], cards) for c in cands]
    results = fit_cohort(models, x_fit, y_fit, validation, batch_size=batch_size, patience=PATIENCE,
                         max_epochs=MAX_EPOCHS, seed=seed)
    return models, [r.epochs_run for r in results]


def scanned(cands, data, batch_size: int) -> tuple[list, list[int]]:
    """Each candidate alone through the cohort trainer, one after the other (what the scan gains without vmap)."""
    runs = [cohort([candidate], data, batch_size) for candidate in cands]
    return [m for models, _ in runs for m in models], [e for _, epochs in runs for e in epochs]


def prepare(x, y, seed: int):
    """Fit, validation and test arrays as the search sees them, and the categorical cardinalities."""
    frames, labels, pre = C.binary_study_split(x, y, seed)
    parts = [{"numerical": a["numerical"], "categorical": a["categorical"]} for a in map(pre.transform, frames)]
    return (parts[0], labels[0]), (parts[1], labels[1]), (parts[2], labels[2]), list(pre.cardinalities_)


def measure(name: str, mode: str, data, k: int) -> dict:
    from sklearn.metrics import roc_auc_score

    from autodeep.train.trainer import default_batch_size

    batch_size = default_batch_size(len(data[0][1]))
    started = time.time()
    models, epochs = MODES[mode](candidates(k), data, batch_size)
    seconds = time.time() - started
    val, test = ([roc_auc_score(labels, model.predict(x, verbose=0, batch_size=1024)[:, 0]) for model in models]
                 for x, labels in data[1:3])
    return {"dataset": name, "mode": mode, "k": k, "batch_size": batch_size, "seconds": seconds,
            "candidates_per_minute": 60 * k / seconds, "mean_epochs": float(np.mean(epochs)),
            "val_auc_mean": float(np.mean(val)), "val_auc_best": float(np.max(val)),
            "test_auc_of_best_val": float(test[int(np.argmax(val))]), "test_auc_mean": float(np.mean(test))}


MODES = {"sequential": sequential, "scanned": scanned, "cohort": cohort}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["credit-g", "kc1", "phoneme"])
    parser.add_argument("--k", type=int, default=8, help="candidates trained together")
    parser.add_argument("--seed", type=int, default=0)
    C.add_io_arguments(parser, "cohort_study")
    args = parser.parse_args(argv)
    args.out = C.result_path(args)
    root = C.data_dir(args.data_dir)
    C.import_autodeep()
    rows = []
    for name in args.datasets:
        data = prepare(*C.load_table(root, C.load_manifest(root).loc[name]), args.seed)
        for mode in MODES:  # each builds its own programs: none is shared between modes or candidates
            rows.append(measure(name, mode, data, args.k))
            print(rows[-1], flush=True)
    report = (C.header("Trials trained together: k candidates as one vmapped JAX program", ("keras", "jax"))
              + f"- seed {args.seed}; {args.k} candidates per dataset; JAX's compilation cache off\n\n"
              + C.md_table(rows, list(rows[0])))
    C.write_report(args.out, report, rows)
    print(report)


if __name__ == "__main__":
    main()
