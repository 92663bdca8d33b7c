"""Fixtures for the evaluation tests: a private PEDGPT_HOME and a small held-out data folder."""

from __future__ import annotations

import pytest

from eval_doubles import write_splits


@pytest.fixture(autouse=True)
def _eval_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PEDGPT_HOME", str(tmp_path / "home"))


@pytest.fixture
def data_dir(tmp_path):
    return write_splits(tmp_path / "data")
