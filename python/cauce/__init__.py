"""Cauce from Python: the same crates as the ``etl``, ``trainer``,
``model-registry`` and ``inference`` binaries.

Load a registered model and predict on a table::

    import cauce, pandas as pd
    model = cauce.Registry("models").load("latest")
    predictions = model.predict(pd.read_csv("data/raw/penguins.csv"))

``Model.predict`` takes a pyarrow Table, a pandas or a polars DataFrame (or
anything with ``__arrow_c_stream__``) and returns the same kind of table
with the columns ``inference`` writes: ``prediction``, one
``proba_<class>`` column per class for a classifier, ``model_version`` and
``_error`` (rows that could not be scored have a null prediction and the
reason). The model card's cleaning (renames, trim, null tokens, casts) and
its SQL transform are applied exactly as ``inference`` applies them.

``etl``, ``train`` and ``infer`` run the stages in this process and return
their reports as dicts. Every error is a ``cauce.Error`` (``EtlError``,
``TrainError``, ``InferenceError``, ``RegistryError``) whose message is the
line the binary prints.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from . import _cauce
from ._cauce import (
    Error,
    EtlError,
    InferenceError,
    RegistryError,
    TrainError,
    etl,
    infer,
    train,
)

__version__ = _cauce.__version__

__all__ = [
    "Error",
    "EtlError",
    "InferenceError",
    "Model",
    "Registry",
    "RegistryError",
    "TrainError",
    "__version__",
    "etl",
    "infer",
    "load",
    "train",
]


def _kind(data: Any) -> str:
    """Which library ``data`` comes from: ``pandas``, ``polars`` or ``arrow``."""
    module = type(data).__module__.split(".")[0]
    return module if module in ("pandas", "polars") else "arrow"


def _as_stream(data: Any) -> Any:
    """``data`` as an object with ``__arrow_c_stream__`` (the Arrow C
    stream interface): tables and data frames are passed as they are, a
    pyarrow RecordBatch or a dict of columns becomes a pyarrow Table."""
    if hasattr(data, "__arrow_c_stream__"):
        return data
    import pyarrow as pa

    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, dict):
        return pa.table(data)
    raise TypeError(
        "cauce: predict takes a pyarrow Table, a pandas or polars DataFrame, "
        f"or a dict of columns, not {type(data).__name__}"
    )


def _like(table: Any, kind: str) -> Any:
    """The pyarrow ``table`` as the kind of table the caller gave."""
    if kind == "pandas":
        return table.to_pandas()
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table


class Model:
    """A model from a registry, ready to predict (see ``Registry.load``)."""

    def __init__(self, native: _cauce.Model):
        self._native = native

    def predict(self, data: Any, passthrough: Optional[Sequence[str]] = None) -> Any:
        """Scores ``data`` as ``inference`` scores a file.

        Returns a table of the same kind (pyarrow, pandas or polars) with
        the ``passthrough`` columns, ``prediction``, ``proba_<class>`` per
        class (classifiers), ``model_version`` and ``_error``, one row per
        input row, in order.
        """
        kind = _kind(data)
        table = self._native._predict(_as_stream(data), list(passthrough or []))
        return _like(table, kind)

    def predict_proba(self, data: Any) -> Any:
        """The class probabilities: one ``proba_<class>`` column per class
        (in ``classes`` order) and ``_error``; a regressor raises
        ``InferenceError``."""
        if self.task != "classification":
            raise InferenceError(f"model {self.name} is a regressor: it has no class probabilities")
        kind = _kind(data)
        table = self._native._predict(_as_stream(data), [])
        columns = [f"proba_{c}" for c in self.classes] + ["_error"]
        return _like(table.select(columns), kind)

    def to_onnx(self, path: Optional[str] = None) -> bytes:
        """The model (its feature pipeline and estimator) as an ONNX model,
        written to ``path`` too when given. Inputs: one per column of
        ``inputs`` (numbers as double ``[N, 1]`` with NaN for missing, text
        as string ``[N, 1]`` with ``""`` for missing); outputs:
        ``prediction`` and, for classifiers, ``probabilities``. The cleaning
        and a SQL transform are not in it: feed the columns etl writes."""
        data = self._native._to_onnx()
        if path is not None:
            with open(path, "wb") as out:
                out.write(data)
        return data

    @property
    def name(self) -> str:
        """The model's name."""
        return self._native.name

    @property
    def version(self) -> Optional[str]:
        """The registry version (``vN``)."""
        return self._native.version

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return self._native.task

    @property
    def classes(self) -> list[str]:
        """A classifier's classes, in the order of its probability columns."""
        return self._native.classes

    @property
    def inputs(self) -> list[str]:
        """The input columns the model reads."""
        return self._native.inputs

    @property
    def card(self) -> Optional[dict]:
        """The model card, as a dict."""
        return self._native.card

    @property
    def feature_importances(self) -> Optional[dict[str, float]]:
        """Tree models' feature importances, largest first (one-hot
        features named ``column=value``); None for other models."""
        return self._native.feature_importances

    def __repr__(self) -> str:
        return repr(self._native)


class Registry:
    """A model registry at a location: a local path, ``file://…`` or
    ``s3://bucket/prefix`` (S3 settings from the usual ``AWS_*``
    environment, ``AWS_ENDPOINT_URL`` and ``AWS_ALLOW_HTTP`` included)."""

    def __init__(self, location: str):
        self._native = _cauce.Registry(location)

    @property
    def location(self) -> str:
        """Where the registry is."""
        return self._native.location

    def versions(self) -> list[dict]:
        """Every version's model card, oldest first."""
        return self._native.versions()

    def card(self, version: str = "latest") -> dict:
        """The card of ``version`` (``vN``, ``latest`` or another alias)."""
        return self._native.card(version)

    def aliases(self) -> list[str]:
        """The aliases that are set."""
        return self._native.aliases()

    def history(self, alias: str = "latest") -> list[dict]:
        """``alias``'s promotion records, oldest first."""
        return self._native.history(alias)

    def promote(self, version: str, alias: str = "latest", reason: Optional[str] = None) -> dict:
        """Points ``alias`` at ``version`` (checked intact first), as
        ``model-registry promote``; returns the record."""
        return self._native.promote(version, alias, reason)

    def rollback(self, alias: str = "latest", reason: Optional[str] = None) -> dict:
        """Moves ``alias`` back to its previous version, as
        ``model-registry rollback``; returns the record."""
        return self._native.rollback(alias, reason)

    def verify(self, version: str = "latest") -> dict:
        """Checks ``version``'s files against its card."""
        return self._native.verify(version)

    def load(
        self,
        version: str = "latest",
        *,
        transform: bool = True,
        transform_tables: str = "recorded",
    ) -> Model:
        """Loads ``version`` with every checksum verified. A model trained
        on a SQL transform replays it on the rows it scores
        (``transform=False``: the rows went through etl already);
        ``transform_tables="current"`` uses reference tables that changed
        since training instead of refusing them."""
        return Model(self._native.load(version, transform, transform_tables))

    def __repr__(self) -> str:
        return f"cauce.Registry({self.location!r})"


def load(location: str, version: str = "latest", **options: Any) -> Model:
    """``Registry(location).load(version, **options)``; a ``location``
    ending in ``.bin`` is a model file (``versioned/vN/model.bin``), loaded
    with its checksum but without a card (so without its cleaning)."""
    if location.endswith(".bin"):
        return Registry(location.rsplit("/", 1)[0] if "/" in location else ".").load(location, **options)
    return Registry(location).load(version, **options)
