"""Why a table is hard for neural networks: single-model variants against tree and neighbour references.

    python benchmarks/table_study.py --dataset kc1   # writes benchmarks/results/table_study_kc1.md

For each seed (default 0 1 2) the benchmark's 80/20 split is made, the training part is split again 80/20
(stratified) into fit and early-stopping rows, autodeep's ``TabularPreprocessor`` is fit on the fit rows, and
each variant is trained from two initialisations (early stopping on validation loss, patience 10, learning
rate reduced on plateaus). Reported: test ROC AUC averaged over initialisations, per seed and overall.

Variants (all: periodic "PLR" numeric embeddings, categorical embeddings, 2 x 256 ReLU, dropout 0.1, AdamW):
  mlp            batch 64
  mlp_b256       batch 256
  mlp_ls         label smoothing 0.1
  mlp_knn        plus out-of-fold k-nearest-neighbour label rates (k = 10, 25, 50) as inputs (a retrieval feature)
  tabm           TabM-mini: k = 16 members share the MLP; each member scales the input by its own random-sign
                 vector and has its own output layer; the loss is the mean of the members' losses
  realmlp        autodeep's block_type="realmlp": a front scaling layer and PBLD embeddings instead of PLR, 3 x 256
                 parametric SELU, dropout 0.15, learning rate 3e-3 (RealMLP's 0.04 in its NTK parametrisation)
  modernnca      a retrieval model in the ModernNCA style (Ye et al., "Revisiting Nearest Neighbor for Tabular
                 Data: A Deep Tabular Baseline Two Decades Later", ICLR 2025): the same embeddings, a linear map to
                 256 and one residual ReLU block encode a row; its prediction is the label mean of candidate rows
                 weighted by softmax(-Euclidean distance). While training, each batch of 128 is scored against 30 %
                 of the other fit rows (256 to 2,048, drawn anew each step, never the batch's own rows); validation
                 and test rows against all fit rows
References, fit on fit + validation rows: ExtraTrees (500 trees, min_samples_leaf 1), k-NN (k = 25),
logistic regression. Also reported: the share of test rows with an exact duplicate among the training rows.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
import pandas as pd

import _common as C

VARIANTS = ("mlp", "mlp_b256", "mlp_ls", "mlp_knn", "tabm", "realmlp", "modernnca")


def knn_rates(x_fit, y_fit, queries, ks=(10, 25, 50), seed=0):
    """Label rates among the k nearest fit rows: out-of-fold for the fit rows, from all fit rows for queries."""
    from sklearn.model_selection import StratifiedKFold
    from sklearn.neighbors import NearestNeighbors

    def rates(xf, yf, xq):
        _, idx = NearestNeighbors(n_neighbors=max(ks)).fit(xf).kneighbors(xq)
        return np.stack([yf[idx[:, :k]].mean(axis=1) for k in ks], axis=1).astype("float32")

    oof = np.zeros((len(x_fit), len(ks)), "float32")
    for fit, held in StratifiedKFold(5, shuffle=True, random_state=seed).split(x_fit, y_fit):
        oof[held] = rates(x_fit[fit], y_fit[fit], x_fit[held])
    base = y_fit.mean()
    return [np.hstack([x_fit, 4 * (oof - base)])] + [np.hstack([q, 4 * (rates(x_fit, y_fit, q) - base)])
                                                      for q in queries]


def build(variant, n_numerical, cardinalities, k=16):
    import keras
    from keras import ops

    from autodeep.blocks.layers import CategoricalEmbedding, FeatureScale, PeriodicBiasEmbedding, PeriodicEmbedding
    from autodeep.blocks.tabular import realmlp_body

    numerical = keras.Input((n_numerical,))
    categorical = keras.Input((len(cardinalities),), dtype="int32")
    parts = [PeriodicBiasEmbedding(16, 0.1, 4)(FeatureScale()(numerical)) if variant == "realmlp"
             else PeriodicEmbedding(48, 0.3, 16)(numerical)]
    if cardinalities:
        parts.append(CategoricalEmbedding(cardinalities, 8)(categorical))
    h = keras.layers.Concatenate()(parts) if len(parts) > 1 else parts[0]
    if variant == "realmlp":
        h = realmlp_body(h, 3, 256, 0.15)
    elif variant == "tabm":
        signs = np.random.default_rng(0).choice([-1.0, 1.0], size=(k, int(h.shape[-1]))).astype("float32")
        h = keras.layers.Lambda(lambda t: ops.expand_dims(t, 1) * ops.convert_to_tensor(signs)[None])(h)
    for _ in range(0 if variant == "realmlp" else 2):
        h = keras.layers.Dropout(0.1)(keras.layers.Dense(256, activation="relu")(h))
    if variant == "tabm":
        kernel = keras.layers.EinsumDense("bkd,kdo->bko", output_shape=(k, 1), bias_axes="ko")(h)
        out = keras.layers.Reshape((k,))(keras.layers.Activation("sigmoid")(kernel))
    else:
        out = keras.layers.Dense(1, activation="sigmoid")(h)
    model = keras.Model([numerical, categorical], out)
    loss = keras.losses.BinaryCrossentropy(label_smoothing=0.1 if variant == "mlp_ls" else 0.0)
    model.compile(keras.optimizers.AdamW(3e-3 if variant == "realmlp" else 1e-3, weight_decay=1e-4), loss)
    return model


def build_nca(n_numerical, cardinalities, dim=256, dropout=0.1):
    """ModernNCA-style: an encoder shared by query and candidate rows, and a softmax(-distance) vote of the
    candidates' labels. Inputs: query numerical and categorical, candidate numerical and categorical, candidate
    labels ``(candidates, 1)``; output: the query's probability of the positive class."""
    import keras
    from keras import ops

    from autodeep.blocks.layers import CategoricalEmbedding, PeriodicEmbedding

    numerical = keras.Input((n_numerical,))
    categorical = keras.Input((len(cardinalities),), dtype="int32")
    parts = [PeriodicEmbedding(48, 0.3, 16)(numerical)]
    if cardinalities:
        parts.append(CategoricalEmbedding(cardinalities, 8)(categorical))
    h = keras.layers.Dense(dim)(keras.layers.Concatenate()(parts) if len(parts) > 1 else parts[0])
    block = keras.layers.Dense(dim)(keras.layers.Dropout(dropout)(keras.layers.Dense(dim, activation="relu")(h)))
    encoder = keras.Model([numerical, categorical], keras.layers.Add()([h, block]))

    def vote(tensors):
        query, candidates, labels = tensors
        squared = (ops.sum(query ** 2, axis=1, keepdims=True) + ops.sum(candidates ** 2, axis=1)[None]
                   - 2.0 * ops.matmul(query, ops.transpose(candidates)))
        weights = ops.softmax(-ops.sqrt(ops.maximum(squared, 1e-12)), axis=1)
        return ops.matmul(weights, labels)

    inputs = [keras.Input((n_numerical,)), keras.Input((len(cardinalities),), dtype="int32"),
              keras.Input((n_numerical,)), keras.Input((len(cardinalities),), dtype="int32"), keras.Input((1,))]
    out = keras.layers.Lambda(vote, output_shape=(1,))([encoder(inputs[:2]), encoder(inputs[2:4]), inputs[4]])
    model = keras.Model(inputs, out)
    model.compile(keras.optimizers.AdamW(1e-3, weight_decay=1e-4), keras.losses.BinaryCrossentropy())
    return model


def candidate_batches(query, y_query, memory, y_memory, batch, train, seed):
    """Batches of query rows with their candidate rows: while training (``query is memory``), 30 % of the
    other memory rows (256 to 2,048), drawn anew each step; otherwise every memory row."""
    import keras

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(y_query)) if train else np.arange(len(y_query))
            self.n_candidates = min(len(y_memory) - batch, max(256, min(2048, int(0.3 * len(y_memory)))))

        def __len__(self):
            return -(-len(y_query) // batch)

        def __getitem__(self, index):
            rows = self.order[index * batch:(index + 1) * batch]
            if train:
                drawn = self.rng.permutation(len(y_memory))
                candidates = drawn[~np.isin(drawn, rows)][:self.n_candidates]
            else:
                candidates = slice(None)
            x = (query[0][rows], query[1][rows], memory[0][candidates], memory[1][candidates],
                 y_memory[candidates][:, None])
            return x, y_query[rows][:, None]

        def on_epoch_end(self):
            if train:
                self.order = self.rng.permutation(len(y_query))

    return Batches()


def fit_predict_nca(arrays, y_fit, y_val, init):
    import keras

    (x_fit, x_val, x_test), cards = arrays
    model = build_nca(x_fit[0].shape[1], cards)
    callbacks = [keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True),
                 keras.callbacks.ReduceLROnPlateau(factor=0.3, patience=4)]
    model.fit(candidate_batches(x_fit, y_fit, x_fit, y_fit, 128, True, init), epochs=300, callbacks=callbacks,
              validation_data=candidate_batches(x_val, y_val, x_fit, y_fit, 512, False, init), verbose=0)
    no_labels = np.zeros(len(x_test[0]), "float32")
    return model.predict(candidate_batches(x_test, no_labels, x_fit, y_fit, 512, False, init), verbose=0).ravel()


def fit_predict(variant, arrays, y_fit, y_val, init):
    import keras

    (x_fit, x_val, x_test), cards = arrays
    keras.utils.set_random_seed(init)
    if variant == "modernnca":
        return fit_predict_nca(arrays, y_fit, y_val, init)
    model = build(variant, x_fit[0].shape[1], cards)
    members = model.output_shape[-1]
    tile = (lambda v: np.repeat(v[:, None], members, axis=1)) if variant == "tabm" else (lambda v: v)
    callbacks = [keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True),
                 keras.callbacks.ReduceLROnPlateau(factor=0.3, patience=4)]
    model.fit(x_fit, tile(y_fit), validation_data=(x_val, tile(y_val)), epochs=300,
              batch_size=256 if variant == "mlp_b256" else 64, callbacks=callbacks, verbose=0)
    return model.predict(x_test, verbose=0, batch_size=2048).reshape(len(x_test[0]), -1).mean(axis=1)


def study(x, y, seed, inits, variants=VARIANTS):
    from sklearn.ensemble import ExtraTreesClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import KNeighborsClassifier

    frames, (y_fit, y_val, y_test), pre = C.binary_study_split(x, y, seed)
    encoded = [pre.transform(f) for f in frames]
    numeric = [e["numerical"] for e in encoded]
    categorical = [e["categorical"] for e in encoded]
    row = {}
    for variant in variants:
        num = knn_rates(numeric[0], y_fit, numeric[1:], seed=seed) if variant == "mlp_knn" else numeric
        arrays = ([[n, c] for n, c in zip(num, categorical)], list(pre.cardinalities_))
        row[variant] = float(np.mean([roc_auc_score(y_test, fit_predict(variant, arrays, y_fit, y_val,
                                                                         init)) for init in range(inits)]))
    dense = [np.hstack([n, c]) for n, c in zip(numeric, categorical)]
    x_all, y_all = np.vstack(dense[:2]), np.concatenate([y_fit, y_val])
    for name, model in (("extra_trees", ExtraTreesClassifier(500, n_jobs=-1, random_state=seed)),
                        ("knn_25", KNeighborsClassifier(25)), ("logistic", LogisticRegression(max_iter=2000))):
        row[name] = float(roc_auc_score(y_test, model.fit(x_all, y_all).predict_proba(dense[2])[:, 1]))
    seen = set(map(tuple, pd.concat(frames[:2]).astype(str).values))
    row["test_rows_duplicated_in_train"] = float(np.mean([tuple(r) in seen for r in frames[2].astype(str).values]))
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="kc1")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--inits", type=int, default=2, help="initialisations per neural variant and seed")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS,
                        help="the neural variants to train (default: all)")
    C.add_io_arguments(parser, "table_study_{dataset}")
    args = parser.parse_args(argv)
    args.out = C.result_path(args)
    root = C.data_dir(args.data_dir)
    x, y = C.load_table(root, C.load_manifest(root).loc[args.dataset])
    started = time.time()
    rows = []
    for seed in args.seeds:
        rows.append({"seed": seed, **study(x, y, seed, args.inits, args.variants)})
        print(rows[-1], flush=True)
    mean = {"seed": "mean", **{k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "seed"}}
    report = (C.header(f"Single-model study on {args.dataset}", ("keras", "jax", "scikit-learn"))
              + f"- test ROC AUC, mean of {args.inits} initialisations per neural variant; "
              f"{time.time() - started:.0f} s\n\n" + C.md_table(rows + [mean], list(rows[0])))
    C.write_report(args.out, report, rows)
    print(report)


if __name__ == "__main__":
    main()
