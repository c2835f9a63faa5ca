"""Images on tiny data: arrays and folders, streaming from disk, blocks, artifacts and bad input."""

from __future__ import annotations

import json
import warnings

import keras
import numpy as np
import pytest

import autodeep as ak
from autodeep.blocks.image import stage_range
from autodeep.data.image_preprocessor import ImagePreprocessor
from autodeep.data.images import ImageFiles
from autodeep.data.rows import LazyRows, RowConcat, concat_rows, is_lazy, read_rows, take_rows
from autodeep.graph import Graph, HyperParameters
from autodeep.train.batches import predict_model, row_batches

FAST = dict(max_trials=1, epochs=1, verbose=0, seed=0)


def _images(n=40, size=8, channels=None, seed=0):
    """Two classes told apart by a bright top half."""
    rng = np.random.default_rng(seed)
    shape = (n, size, size) if channels is None else (n, size, size, channels)
    x = rng.integers(0, 120, shape, dtype="uint8")
    y = np.repeat(np.array(["bright", "dark"]), n // 2)
    x[y == "bright", : size // 2] += 130
    return x, y


@pytest.fixture
def photo_folder(tmp_path):
    """cat/ and dog/ with RGB 16x16 PNGs, one grayscale 20x20 JPEG and one corrupt file."""
    from PIL import Image

    x, y = _images(24, size=16, channels=3)
    root = tmp_path / "photos"
    for i, (image, label) in enumerate(zip(x, y)):
        (root / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / label / f"{i:03d}.png")
    Image.fromarray(np.full((20, 20), 30, "uint8")).save(root / "dark" / "gray.jpg")
    (root / "bright" / "broken.png").write_bytes(b"this is not a png")
    return root


def test_classifier_from_arrays_predicts_saves_and_loads(tmp_path):
    x, y = _images()
    clf = ak.ImageClassifier(directory=tmp_path, refit=False, **FAST)
    assert clf.fit(x, y) is clf
    proba = clf.predict_proba(x[:10])
    assert proba.shape == (10, 2) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    labels = clf.predict(x[:10])
    assert list(labels) == list(np.array(["bright", "dark"])[proba.argmax(axis=1)])
    loss, accuracy = clf.evaluate(x, y)  # the exported model's own accuracy: the share predict gets right
    assert np.isfinite(loss) and accuracy == pytest.approx(float((clf.predict(x) == y).mean()), abs=1e-6)
    model = clf.export_model()
    assert isinstance(model, keras.Model) and model.inputs[0].shape[1:] == (8, 8, 1)
    # the exported model takes raw uint8 pixels: scaling and normalisation are inside it
    raw = model.predict({"image_input__images": x[:10][..., None]}, verbose=0)
    np.testing.assert_allclose(raw.reshape(-1), proba[:, 1], rtol=1e-5, atol=1e-6)
    loaded = ak.load_model(clf.save(tmp_path / "exported"))
    np.testing.assert_allclose(loaded.predict_proba(x[:10]), proba, rtol=1e-5, atol=1e-6)
    manifest = json.loads((tmp_path / "exported" / "manifest.json").read_text())
    assert manifest["inputs"][0]["preprocessor"]["class"] == "ImagePreprocessor"
    assert manifest["info"]["params"]["image_block_1/block_type"] == "vanilla"  # the small CNN comes first
    # a (n, h, w, 1) array and float pixels are the same images
    np.testing.assert_allclose(loaded.predict_proba(x[:10, :, :, None].astype("float32")), proba, rtol=1e-5, atol=1e-6)


def test_folder_is_streamed_with_corrupt_grayscale_and_resized_files(photo_folder, tmp_path):
    clf = ak.ImageClassifier(directory=tmp_path, refit=False, **FAST)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(str(photo_folder))
    assert any("broken.png" in str(w.message) for w in caught)  # reported by name, left out
    predictor = clf.predictor_
    pre = predictor.preprocessors[0]
    assert pre.size_ == (16, 16) and pre.channels_ == 3  # the most common size; RGB since some files are colour
    streamed = predictor.transform(str(photo_folder))["image_input__images"]
    assert isinstance(streamed, ImageFiles) and len(streamed) == 26  # read on demand, never a full array
    gray = read_rows(streamed, np.array([streamed.paths.index(str(photo_folder / "dark" / "gray.jpg"))]))
    assert gray.shape == (1, 16, 16, 3) and (np.abs(gray.astype(int) - 30) <= 2).all()
    manifest = json.loads((predictor.path / "manifest.json").read_text())
    assert manifest["info"]["final"]["rows"] == 20  # 25 readable images, 5 held out for validation
    paths = sorted(str(p) for p in (photo_folder / "dark").glob("*.png"))[:3]
    assert list(clf.predict(paths)) == list(clf.predict(np.stack([read_rows(streamed, np.array(
        [streamed.paths.index(p)]))[0] for p in paths])))
    loss, accuracy = clf.evaluate(str(photo_folder))
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0
    with pytest.raises(ValueError, match="broken.png"):
        ak.ImageClassifier(directory=tmp_path, on_error="raise", **FAST).fit(str(photo_folder))


def test_regressor_on_float_images(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((40, 8, 8)).astype("float32") * 16  # 0..16, like scikit-learn's digits
    y = x.mean(axis=(1, 2))
    reg = ak.ImageRegressor(directory=tmp_path, refit=False, **FAST)
    predictions = reg.fit(x, y).predict(x[:5])
    assert predictions.shape == (5,) and np.isfinite(predictions).all()
    assert reg.predictor_.preprocessors[0].scale_ == pytest.approx(float(x.max()))


def test_bad_inputs_name_the_argument(tmp_path):
    clf = ak.ImageClassifier(directory=tmp_path, **FAST)
    with pytest.raises(ValueError, match=r"x must be images of shape .* received an array of shape \(40, 64\)"):
        clf.fit(np.zeros((40, 64), "uint8"), np.arange(40) % 2)
    with pytest.raises(TypeError, match="x must hold numbers"):
        clf.fit(np.array([["a"] * 4] * 4, dtype=object).reshape(1, 2, 2, 4), [0])
    with pytest.raises(ValueError, match="y"):
        clf.fit(np.zeros((40, 8, 8), "uint8"), np.arange(39) % 2)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="x: the folder .* has no class sub-folders"):
        clf.fit(str(tmp_path / "empty"))
    (tmp_path / "one" / "cat").mkdir(parents=True)
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), "uint8")).save(tmp_path / "one" / "cat" / "a.png")
    with pytest.raises(ValueError, match="single class 'cat'"):
        clf.fit(str(tmp_path / "one"))
    with pytest.raises(FileNotFoundError, match="x: no such folder"):
        clf.fit(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="on_error"):
        ak.ImageClassifier(on_error="ignore")
    with pytest.raises(ValueError, match="block_type"):
        ak.ImageBlock(block_type="vgg")


def test_preprocessor_statistics_and_size_checks():
    x, _ = _images(channels=3)
    pre = ImagePreprocessor().fit(x)
    expected = (x.astype("float64") / 255).reshape(-1, 3)
    np.testing.assert_allclose(pre.mean_, expected.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(pre.std_, expected.std(axis=0), rtol=1e-6)
    with pytest.raises(ValueError, match=r"images of size \(4, 4\); the model takes \(8, 8\)"):
        pre.transform(x[:, :4, :4])
    gray = pre.transform(x[:2, :, :, :1])["images"]  # grayscale into an RGB model: channels repeated
    assert gray.shape == (2, 8, 8, 3) and (gray[..., 0] == gray[..., 2]).all()
    restored = ImagePreprocessor.from_config(json.loads(json.dumps(pre.get_config())))
    assert restored.specs() == pre.specs()


def _graph(block, shape=(8, 8, 1), dtype="uint8", stats=True):
    node = ak.ImageInput(name="img")
    head = ak.ClassificationHead(name="head")
    out = head(block(node))
    head.configure({"num_classes": 3})
    meta = {"scale": 255.0, "mean": [0.5] * shape[-1] if stats else [], "std": [0.25] * shape[-1]}
    return Graph([node], [out]), {"img": {"features": {"images": (shape, dtype)}, "meta": meta}}


def test_normalization_uses_training_statistics_and_augmentation_is_off_at_inference():
    x = np.random.default_rng(0).integers(0, 255, (16, 8, 8, 1), dtype="uint8")
    node = ak.ImageInput(name="img")
    normalized = ak.Normalization()(node)
    augmented = ak.ImageAugmentation(translation_factor=0.2, horizontal_flip=True, rotation_factor=0.1,
                                     zoom_factor=0.1, contrast_factor=0.1, vertical_flip=False)(normalized)
    inputs = {"images": keras.Input((8, 8, 1), dtype="uint8", name="images")}
    meta = {"scale": 255.0, "mean": [0.5], "std": [0.25]}
    tensor = node.to_block_input(inputs, meta)
    norm = normalized.in_blocks[0].build(HyperParameters(), tensor)
    aug = augmented.in_blocks[0].build(HyperParameters(), norm)
    model = keras.Model(inputs, [norm, aug])
    out_norm, out_aug = model.predict({"images": x}, verbose=0)
    np.testing.assert_allclose(out_norm, (x / 255.0 - 0.5) / 0.25, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out_aug, out_norm, rtol=1e-6)  # inference: no augmentation
    trained = model({"images": x}, training=True)[1]
    assert not np.allclose(keras.ops.convert_to_numpy(trained), out_norm)


def test_random_shift_moves_each_image_by_whole_pixels_within_the_factor_and_reloads():
    from autodeep.blocks.layers import RandomShift

    images = np.random.default_rng(1).random((32, 10, 10, 2)).astype("float32")
    layer = RandomShift(0.2, seed=3)  # up to 2 pixels each way
    shifted = keras.ops.convert_to_numpy(layer(images, training=True))
    padded = np.pad(images, [(0, 0), (2, 2), (2, 2), (0, 0)], mode="reflect")
    offsets = []
    for i in range(len(images)):
        found = [(dy, dx) for dy in range(5) for dx in range(5)
                 if np.array_equal(padded[i, dy:dy + 10, dx:dx + 10], shifted[i])]
        assert found, f"image {i} is not a whole-pixel shift of at most 2 pixels"
        offsets.append(found[0])
    assert len(set(offsets)) > 3  # shifts are drawn per image, not once per batch
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(images, training=False)), images)
    again = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(again, RandomShift) and again.factor == 0.2


def test_conv_block_handles_images_and_sequences_and_scales_with_size():
    assert stage_range(8) == (2, 2) and stage_range(28) == (3, 3) and stage_range(32) == (3, 4)
    image = keras.Input((32, 32, 3))
    hp = HyperParameters()
    out = ak.ConvBlock().build(hp, image)
    assert hp.values["num_blocks"] == 3 and tuple(out.shape[1:]) == (4, 4, 128)
    sequence = keras.Input((50, 16))
    out = ak.ConvBlock(num_blocks=2, filters=8, num_layers=1).build(HyperParameters(), sequence)
    assert tuple(out.shape[1:]) == (12, 16)  # Conv1D stages with pooling
    assert tuple(ak.SpatialReduction("global_max").build(HyperParameters(), out).shape[1:]) == (16,)
    with pytest.raises(ak.graph.GraphError, match="takes images .* or sequences"):
        ak.ConvBlock().build(HyperParameters(), keras.Input((5,)))


# Only the lightest keras.applications net here: building EfficientNet/Xception takes minutes on a loaded CPU.
@pytest.mark.parametrize("block, layer", [(ak.ResNetBlock(version="resnet50_v2"), "resnet50v2")])
def test_application_blocks_build_without_downloads_on_small_images(block, layer):
    graph, specs = _graph(block)
    model = graph.build(HyperParameters(), specs, compile=False)
    assert any(layer in sub.name for sub in model.layers)
    assert model.output_shape == (None, 3)


def test_application_block_refuses_pretrained_without_a_local_file(tmp_path):
    with pytest.raises(ValueError, match="weights="):
        ak.ResNetBlock(pretrained=True)
    with pytest.raises(FileNotFoundError, match="no such file"):
        ak.EfficientNetBlock(weights=str(tmp_path / "missing.h5"))


def test_lazy_rows_split_concat_and_batches(tmp_path):
    class Counter(LazyRows):
        row_shape, dtype = (2,), np.dtype("float32")

        def __len__(self):
            return 10

        def read(self, index):
            return np.stack([index, index], axis=1).astype("float32")

    rows = Counter()
    part = take_rows(rows, np.array([7, 2, 5]))
    assert is_lazy({"a": part}) and not is_lazy({"a": np.zeros(3)})
    assert read_rows(part, np.array([0, 2]))[:, 0].tolist() == [7.0, 5.0]
    both = concat_rows(part, np.full((2, 2), 99.0, "float32"))
    assert isinstance(both, RowConcat) and len(both) == 5
    assert read_rows(both, np.array([4, 0]))[:, 0].tolist() == [99.0, 7.0]
    batches = row_batches({"a": both}, np.arange(5), batch_size=2, shuffle=True, seed=0)
    seen = sorted(int(v) for i in range(len(batches)) for v in batches[i][1])
    assert len(batches) == 3 and seen == [0, 1, 2, 3, 4]
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")])
    np.testing.assert_allclose(predict_model(model, both).ravel(), [14, 4, 10, 198, 198])
