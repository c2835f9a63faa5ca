"""Text vectorisation fit on training texts: TF-IDF n-grams and integer token sequences, saved as JSON.

Pure Python/numpy (no TensorFlow): the model receives numbers only. One fitted
``TextVectorizer`` produces both representations the text blocks may search over:

* ``"tfidf"``: float16 ``(n, F)``, columns grouped as word unigrams, word bigrams and
  character n-grams (within words), each group ranked by document frequency and
  L2-normalised on its own, so a block can keep a prefix of a group (a smaller
  vocabulary) or drop a group (another n-gram range) without refitting;
* ``"tokens"``: int32 ``(n, L)`` word ids (0 = padding, 1 = out of vocabulary, then by
  frequency), so clipping ids caps the vocabulary and slicing columns truncates.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

_TOKEN = re.compile(r"\w+|[^\w\s]")
GROUPS = ("word1", "word2", "char")
PAD, OOV = 0, 1
DENSE_BUDGET_BYTES = 256 * 2**20  # per transformed array; keeps (n, F) float16 matrices bounded


def as_texts(raw, argument: str = "x") -> list[str]:
    """Check and turn a list, 1-D array, Series or one-column frame of strings into a list of str.

    Example:
        >>> as_texts(["a b", "", "ü"])
        ['a b', '', 'ü']
    """
    if isinstance(raw, (str, bytes)):
        raise TypeError(f"{argument} must be a sequence of strings (list, numpy array, pandas Series); "
                        f"received a single {type(raw).__name__}. Wrap it in a list: [{argument}].")
    if isinstance(raw, pd.DataFrame):
        if raw.shape[1] != 1:
            raise ValueError(f"{argument} must hold one text column; received a DataFrame with columns "
                             f"{list(raw.columns)[:5]}. Pass one column, e.g. df['text'].")
        raw = raw.iloc[:, 0]
    if isinstance(raw, pd.Series):
        raw = raw.tolist()
    elif isinstance(raw, np.ndarray):
        if raw.ndim == 2 and raw.shape[1] == 1:
            raw = raw[:, 0]
        if raw.ndim != 1:
            raise ValueError(f"{argument} must be 1-D (one string per row); received an array of shape {raw.shape}.")
        raw = raw.tolist()
    elif not isinstance(raw, (list, tuple)):
        raise TypeError(f"{argument} must be a list, numpy array or pandas Series of strings; "
                        f"received {type(raw).__name__}.")
    texts = list(raw)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{argument}[{i}] must be a string; received {type(text).__name__} ({text!r:.40}). "
                            f"Convert or drop non-text entries (missing values included) first.")
    return texts


def read_text_folder(path, argument: str = "x") -> tuple[list[str], list[str] | None]:
    """Texts and labels from a folder with one sub-folder of ``.txt`` files per class.

    A folder without sub-folders gives its ``.txt`` files and no labels (for prediction).

    Example:
        >>> texts, labels = read_text_folder("reviews/")  # doctest: +SKIP
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"{argument}: {str(root)!r} is not a folder (expected one sub-folder of .txt "
                                f"files per class).")
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        files = sorted(root.glob("*.txt"))
        if not files:
            raise ValueError(f"{argument}: {str(root)!r} holds no sub-folders and no .txt files.")
        return [f.read_text(encoding="utf-8", errors="replace") for f in files], None
    texts, labels = [], []
    for folder in classes:
        for file in sorted(folder.rglob("*.txt")):
            texts.append(file.read_text(encoding="utf-8", errors="replace"))
            labels.append(folder.name)
    if not texts:
        raise ValueError(f"{argument}: the class folders of {str(root)!r} hold no .txt files.")
    return texts, labels


def normalize(text: str) -> str:
    """Unicode-normalise (NFKC) and case-fold, so visually equal texts tokenise equally."""
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str) -> list[str]:
    """Word and punctuation tokens of a normalised text (any script: ``\\w`` is Unicode-aware)."""
    return _TOKEN.findall(text)


def _char_grams(token: str, char_range: tuple[int, int]) -> list[str]:
    padded, (lo, hi) = f" {token} ", char_range
    return [padded[i:i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)]


def _terms(tokens: list[str], char_range: tuple[int, int], cache: dict) -> list[tuple[str, str]]:
    """Every (group, term) occurrence of a tokenised text; ``cache`` memoises per-word character n-grams."""
    terms = [("word1", t) for t in tokens]
    terms += [("word2", f"{a} {b}") for a, b in zip(tokens, tokens[1:])]
    for token in tokens:
        grams = cache.get(token)
        if grams is None:
            grams = cache[token] = [("char", g) for g in _char_grams(token, char_range)]
        terms += grams
    return terms


class TextVectorizer:
    """Fit vocabularies on training texts; turn texts into TF-IDF n-grams and token id sequences.

    Args:
        max_features: Most TF-IDF columns (word unigrams + bigrams + character n-grams); also
            bounded so one transformed float16 matrix stays under 256 MB.
        char_share: Share of ``max_features`` kept for character n-grams.
        char_range: Lengths of the character n-grams (taken inside words, padded by spaces).
        max_tokens: Most token ids (padding and out-of-vocabulary included).
        max_sequence_length: Upper bound on the token sequence length (the 95th percentile of the
            training texts' lengths is used when shorter).

    Example:
        >>> v = TextVectorizer(max_features=50).fit(["good movie", "bad movie", "good fun"])
        >>> out = v.transform(["good movie", ""])
        >>> out["tfidf"].shape[0], out["tokens"].dtype.name, int(out["tokens"][1].sum())
        (2, 'int32', 0)
    """

    def __init__(self, max_features: int = 20000, char_share: float = 0.25, char_range=(2, 4),
                 max_tokens: int = 20000, max_sequence_length: int = 256):
        self.max_features = max_features
        self.char_share = char_share
        self.char_range = tuple(char_range)
        self.max_tokens = max_tokens
        self.max_sequence_length = max_sequence_length
        self.terms_: dict[str, list[str]] = {}
        self.idf_: dict[str, list[float]] = {}
        self.tokens_: list[str] = []
        self.sequence_length_ = 0

    # -- fit -----------------------------------------------------------------
    def fit(self, raw, argument: str = "x") -> "TextVectorizer":
        texts = [normalize(t) for t in as_texts(raw, argument)]
        tokenised = [words(t) for t in texts]
        if not any(tokenised):
            raise ValueError(f"{argument} holds no words: all {len(texts)} texts are empty or whitespace.")
        n = len(texts)
        doc_freq: Counter = Counter()
        token_counts: Counter = Counter()
        cache: dict = {}
        for tokens in tokenised:
            doc_freq.update(set(_terms(tokens, self.char_range, cache)))
            token_counts.update(tokens)
        budget = max(1000, DENSE_BUDGET_BYTES // (2 * max(n, 1)))
        total = max(1, min(self.max_features, budget))
        min_df = 2 if n >= 200 else 1
        ranked = sorted(((-df, group, term) for (group, term), df in doc_freq.items() if df >= min_df))
        chars = [r for r in ranked if r[1] == "char"][:int(total * self.char_share)]
        words_ = [r for r in ranked if r[1] != "char"][:total - len(chars)]
        self.terms_, self.idf_ = {}, {}
        for group in GROUPS:
            chosen = [(-neg, term) for neg, g, term in (chars if group == "char" else words_) if g == group]
            self.terms_[group] = [term for _, term in chosen]
            self.idf_[group] = [math.log((1 + n) / (1 + df)) + 1.0 for df, _ in chosen]
        common = sorted(token_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:self.max_tokens - 2]
        self.tokens_ = [t for t, _ in common]
        lengths = np.array([len(t) for t in tokenised])
        self.sequence_length_ = int(min(self.max_sequence_length, max(8, np.ceil(np.percentile(lengths, 95)))))
        return self

    # -- transform -----------------------------------------------------------
    def _check_fitted(self):
        if not self.terms_:
            raise RuntimeError("This TextVectorizer is not fitted yet: call fit(texts) first.")

    def groups(self) -> dict[str, list[int]]:
        """``{group: [start, stop]}`` column ranges of the TF-IDF matrix."""
        out, start = {}, 0
        for group in GROUPS:
            out[group] = [start, start + len(self.terms_[group])]
            start += len(self.terms_[group])
        return out

    def _columns(self, tokens: list[str], columns: dict, cache: dict) -> list[int]:
        """TF-IDF column of every known term occurrence; ``cache`` memoises each word's columns."""
        found = []
        for token in tokens:
            cols = cache.get(token)
            if cols is None:
                grams = [("word1", token)] + [("char", g) for g in _char_grams(token, self.char_range)]
                cols = cache[token] = [columns[g] for g in grams if g in columns]
            found += cols
        bigrams = (columns.get(("word2", f"{a} {b}")) for a, b in zip(tokens, tokens[1:]))
        return found + [c for c in bigrams if c is not None]

    def transform(self, raw, argument: str = "x") -> dict[str, np.ndarray]:
        self._check_fitted()
        texts = [normalize(t) for t in as_texts(raw, argument)]
        ranges = self.groups()
        columns = {(g, t): ranges[g][0] + i for g in GROUPS for i, t in enumerate(self.terms_[g])}
        idf = np.concatenate([np.asarray(self.idf_[g], dtype="float32") for g in GROUPS])
        width = max(ranges[GROUPS[-1]][1], 1)
        tfidf = np.zeros((len(texts), width), dtype="float16")
        tokens = np.zeros((len(texts), self.sequence_length_), dtype="int32")
        ids = {t: i + 2 for i, t in enumerate(self.tokens_)}
        cache: dict = {}
        for begin in range(0, len(texts), 1024):  # float32 work in chunks, float16 storage
            chunk = np.zeros((min(1024, len(texts) - begin), width), dtype="float32")
            for offset, text in enumerate(texts[begin:begin + 1024]):
                tokenised = words(text)
                counts = Counter(self._columns(tokenised, columns, cache))
                if counts:
                    cols = np.fromiter(counts.keys(), dtype="int64", count=len(counts))
                    tf = np.fromiter(counts.values(), dtype="float32", count=len(counts))
                    chunk[offset, cols] = (1.0 + np.log(tf)) * idf[cols]  # sublinear tf
                seq = [ids.get(t, OOV) for t in tokenised[:self.sequence_length_]]
                tokens[begin + offset, :len(seq)] = seq
            for start, stop in ranges.values():  # each group has unit L2 norm (or is all zero)
                block = chunk[:, start:stop]
                norms = np.linalg.norm(block, axis=1, keepdims=True)
                np.divide(block, norms, out=block, where=norms > 0)
            tfidf[begin:begin + len(chunk)] = chunk
        return {"tfidf": tfidf, "tokens": tokens}

    # -- preprocessor protocol (see autodeep.data.table_preprocessor) -------------
    def specs(self) -> dict:
        self._check_fitted()
        width = max(self.groups()[GROUPS[-1]][1], 1)
        return {"features": {"tfidf": ((width,), "float16"), "tokens": ((self.sequence_length_,), "int32")},
                "meta": {"groups": self.groups(), "vocabulary_size": len(self.tokens_) + 2,
                         "sequence_length": self.sequence_length_,
                         "terms": [f"{g}:{t}" for g in GROUPS for t in self.terms_[g]],
                         "tokens": ["", "[UNK]"] + self.tokens_}}

    def n_rows(self, raw) -> int:
        return len(as_texts(raw))

    def get_config(self) -> dict:
        return {"max_features": self.max_features, "char_share": self.char_share, "char_range": list(self.char_range),
                "max_tokens": self.max_tokens, "max_sequence_length": self.max_sequence_length,
                "terms": self.terms_, "idf": self.idf_, "tokens": self.tokens_,
                "sequence_length": self.sequence_length_}

    @classmethod
    def from_config(cls, config: dict) -> "TextVectorizer":
        v = cls(config["max_features"], config["char_share"], config["char_range"], config["max_tokens"],
                config["max_sequence_length"])
        v.terms_ = {g: list(config["terms"][g]) for g in GROUPS}
        v.idf_ = {g: [float(x) for x in config["idf"][g]] for g in GROUPS}
        v.tokens_ = list(config["tokens"])
        v.sequence_length_ = int(config["sequence_length"])
        return v


def is_folder(x) -> bool:
    """Whether ``x`` names an existing folder (text tasks read those as one sub-folder per class)."""
    return isinstance(x, (str, os.PathLike)) and Path(x).is_dir()
