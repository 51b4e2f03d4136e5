"""Reading pickled data files (e.g. LOGO's ``anno_dict.pkl``) without executing code from them.

``pickle.load`` on a downloaded file can run any code the file names. :func:`safe_load_pickle` uses an
unpickler that resolves only an allow-list of globals: plain containers (dict, list, tuple, set,
frozenset, OrderedDict, defaultdict), numbers, strings, bytes, and numpy arrays, dtypes and scalars
(object dtype refused unless asked for; its elements then pass through the same allow-list). Anything
else, and any malformed file, is a :class:`LongAQAError` naming the file.
"""

from __future__ import annotations

import collections
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from longaqa.errors import LongAQAError

_PLAIN_BUILTINS = (
    "dict", "list", "tuple", "set", "frozenset", "int", "float", "complex", "str", "bytes",
    "bytearray", "bool", "slice", "range",
)


def _numpy_core():
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    return multiarray


class _Refused(Exception):
    """Raised inside the unpickler; turned into a LongAQAError with the file name."""


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    # protocol 2 pickles store bytes as _codecs.encode(str, 'latin1'); allow only that use
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise _Refused(f"_codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


class _SafeUnpickler(pickle.Unpickler):
    def __init__(self, file, allow_object_arrays: bool, encoding: str):
        super().__init__(file, encoding=encoding)
        multiarray = _numpy_core()
        allow_object = allow_object_arrays

        def dtype(obj, align=False, copy=False):
            result = np.dtype(obj, align, copy)
            if result.hasobject and not allow_object:
                raise _Refused("a numpy array of Python objects (dtype object)")
            return result

        def reconstruct(cls, shape, dtype_code):
            if cls is not np.ndarray:
                raise _Refused(f"numpy array subclass {cls!r}")
            return multiarray._reconstruct(cls, shape, dtype_code)

        def scalar(dt, *args):
            if not isinstance(dt, np.dtype) or dt.hasobject:
                raise _Refused("a numpy scalar of dtype object")
            return multiarray.scalar(dt, *args)

        def frombuffer(buf, dt, shape, order):
            if not isinstance(dt, np.dtype) or dt.hasobject:
                raise _Refused("a numpy buffer of dtype object")
            return np.frombuffer(buf, dtype=dt).reshape(shape, order=order).copy()

        self._allowed: dict[tuple[str, str], Any] = {}
        for module in ("builtins", "__builtin__"):
            for name in _PLAIN_BUILTINS:
                self._allowed[(module, name)] = getattr(__import__("builtins"), name)
        self._allowed[("collections", "OrderedDict")] = collections.OrderedDict
        self._allowed[("collections", "defaultdict")] = collections.defaultdict
        self._allowed[("_codecs", "encode")] = _latin1_encode
        self._allowed[("numpy", "ndarray")] = np.ndarray
        self._allowed[("numpy", "dtype")] = dtype
        for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            self._allowed[(module, "_reconstruct")] = reconstruct
            self._allowed[(module, "scalar")] = scalar
        for module in ("numpy.core.numeric", "numpy._core.numeric"):
            self._allowed[(module, "_frombuffer")] = frombuffer  # protocol 5

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise _Refused(f"{module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused(f"persistent id {pid!r}")


def safe_loads_pickle(data: bytes, source: str = "<bytes>", *, allow_object_arrays: bool = False,
                      encoding: str = "ASCII") -> object:
    """Unpickle ``data`` with the allow-list above; ``source`` names it in error messages."""
    try:
        return _SafeUnpickler(io.BytesIO(data), allow_object_arrays, encoding).load()
    except _Refused as exc:
        raise LongAQAError(
            f"{source}: refused to load pickled {exc} (only plain containers, numbers, strings and "
            "numpy arrays are allowed)"
        ) from None
    except LongAQAError:
        raise
    except RecursionError:
        raise LongAQAError(f"{source}: pickle nests too deeply to load") from None
    except Exception as exc:  # malformed input can raise almost anything from the pickle machine
        raise LongAQAError(
            f"{source}: not a readable pickle, truncated or corrupt ({type(exc).__name__}: {exc})"
        ) from None


def safe_load_pickle(path: str | Path, *, allow_object_arrays: bool = False,
                     encoding: str = "ASCII") -> object:
    """Load a pickle file without executing code from it. Raises :class:`LongAQAError` naming ``path``.

    ``encoding`` is passed to the unpickler for Python 2 pickles (use ``latin1`` for those holding
    numpy arrays). ``allow_object_arrays`` admits numpy arrays of dtype object, whose elements are
    still restricted to the allow-list.
    """
    path = Path(path)
    if not path.is_file():
        raise LongAQAError(f"{path}: pickle file not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LongAQAError(f"{path}: cannot be read ({exc.strerror})") from None
    return safe_loads_pickle(data, str(path), allow_object_arrays=allow_object_arrays, encoding=encoding)
