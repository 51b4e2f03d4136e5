"""Writing run files safely: atomic writes, output-folder checks, weights and resumable checkpoints.

Everything is stored in safetensors (no code is executed when loading). A resumable checkpoint is one
safetensors file whose tensors are the model, optimizer, best-so-far weights and RNG states, and whose
metadata holds the rest of the training state as JSON; it is written atomically (temporary file,
fsync, rename), so a run killed at any moment keeps either the previous checkpoint or the new one.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from longaqa.config import ABSENT as ABSENT  # named here for the callers that import it from here
from longaqa.config import config_differences, format_differences
from longaqa.errors import LongAQAError

CHECKPOINT_FORMAT = "longaqa-checkpoint"
CHECKPOINT_VERSION = "1"


def _describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (folder not writable)"
    return exc.strerror or str(exc)


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp_path)`` then fsync and rename over ``path``, so readers never see half a file.

    An OS error (full disk, unwritable folder) leaves any previous ``path`` untouched and is raised as
    a :class:`LongAQAError` naming ``path``.
    """
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        write(Path(tmp))
        # mkstemp makes 0600 (and some writers recreate the file): give it the usual permissions
        os.chmod(tmp, 0o666 & ~_umask())
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        raise LongAQAError(
            f"{path}: could not be written ({_describe_os_error(exc)}); any previous version is kept"
        ) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_output_folder(folder: Path, needed_bytes: int) -> None:
    """Create ``folder`` if needed and check that it is writable and has ``needed_bytes`` free.

    Raises :class:`LongAQAError` before any work is done, rather than failing at the first save.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LongAQAError(f"{folder}: cannot create the run folder ({_describe_os_error(exc)})") from None
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test.") as fh:
            fh.write(b"x")
            fh.flush()
    except OSError as exc:
        raise LongAQAError(f"{folder}: run folder is not writable ({_describe_os_error(exc)})") from None
    free = shutil.disk_usage(folder).free
    if free < needed_bytes:
        raise LongAQAError(
            f"{folder}: only {free / 2**20:.1f} MiB free, the run needs about {needed_bytes / 2**20:.1f} MiB "
            "(checkpoints, weights, logs); free some space or choose another --out"
        )


def state_dict_mismatch(state: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> str:
    """Empty when ``state`` fits ``expected`` (same keys and shapes); else which keys differ."""
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = sorted(
        f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape
    )
    dtypes = sorted(
        f"{k} {state[k].dtype} vs {expected[k].dtype}".replace("torch.", "")
        for k in set(state) & set(expected)
        if state[k].dtype != expected[k].dtype
    )
    parts = []
    if missing:
        parts.append("missing: " + ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else ""))
    if unexpected:
        parts.append("unexpected: " + ", ".join(unexpected[:8]) + (" ..." if len(unexpected) > 8 else ""))
    if shapes:
        parts.append("shape (file vs model): " + ", ".join(shapes[:8]))
    if dtypes:
        parts.append("dtype (file vs model): " + ", ".join(dtypes[:8]) + (" ..." if len(dtypes) > 8 else ""))
    return "; ".join(parts)


def save_weights(model: torch.nn.Module, path: Path, metadata: dict[str, str] | None = None) -> None:
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write(Path(path), lambda tmp: save_file(state, str(tmp), metadata=metadata or {}))


def _read_safetensors(path: Path, what: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    if not path.is_file():
        raise LongAQAError(f"{path}: {what} not found")
    try:
        state = load_file(str(path))
        with safe_open(str(path), framework="pt") as fh:
            metadata = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise LongAQAError(f"{path}: not a readable safetensors file, truncated or corrupt ({exc})") from None
    return state, metadata


def load_weights(
    model: torch.nn.Module, path: Path, model_config: dict[str, Any] | None = None
) -> dict[str, str]:
    """Load safetensors weights into ``model``; a mismatch lists the differing keys. Returns metadata.

    When ``model_config`` is given and the file records the model config it was trained with
    (metadata ``model_config``), differing config keys are named too.
    """
    path = Path(path)
    state, metadata = _read_safetensors(path, "weights file")
    mismatch = state_dict_mismatch(state, model.state_dict())
    if mismatch:
        diffs = []
        if model_config is not None and "model_config" in metadata:
            try:
                diffs = config_differences(json.loads(metadata["model_config"]), model_config, "model.")
            except (ValueError, TypeError, AttributeError):
                diffs = []
        trained = f"; trained with {format_differences(diffs)} (file -> current)" if diffs else ""
        raise LongAQAError(
            f"{path}: weights do not match the model configuration{trained}; tensors: {mismatch}"
        )
    nonfinite = sorted(k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all())
    if nonfinite:
        raise LongAQAError(
            f"{path}: {len(nonfinite)} weight tensor(s) hold NaN or infinite values ({', '.join(nonfinite[:3])}"
            f"{' ...' if len(nonfinite) > 3 else ''}); the file is corrupt or from a diverged training"
        )
    model.load_state_dict(state)
    return metadata


# --- resumable checkpoints -------------------------------------------------------------------------


def _pack(obj: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    """A JSON-able tree with every tensor and numpy array moved into ``tensors`` under a path key."""
    if isinstance(obj, torch.Tensor):
        tensors[key] = obj.detach().cpu().contiguous().clone()
        return {"__tensor__": key}
    if isinstance(obj, np.ndarray):
        array = np.ascontiguousarray(obj)
        tensors[key] = torch.from_numpy(np.frombuffer(array.tobytes(), dtype=np.uint8).copy())  # raw bytes
        return {"__ndarray__": key, "dtype": array.dtype.str, "shape": list(array.shape)}
    if isinstance(obj, dict):
        return {"__dict__": [[k, _pack(v, f"{key}.{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_pack(v, f"{key}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_pack(v, f"{key}.{i}", tensors) for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} at {key} in a checkpoint")


def _unpack(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(tree, list):
        return [_unpack(v, tensors) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "__tensor__" in tree:
        return tensors[tree["__tensor__"]]
    if "__ndarray__" in tree:
        raw = tensors[tree["__ndarray__"]].numpy().tobytes()
        return np.frombuffer(raw, dtype=np.dtype(tree["dtype"])).reshape(tree["shape"]).copy()
    if "__tuple__" in tree:
        return tuple(_unpack(v, tensors) for v in tree["__tuple__"])
    if "__dict__" in tree:
        return {k: _unpack(v, tensors) for k, v in tree["__dict__"]}
    raise ValueError(f"unknown node {sorted(tree)}")


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write a nested ``state`` (dicts, lists, tuples, numbers, strings, tensors, numpy arrays) atomically."""
    tensors: dict[str, torch.Tensor] = {}
    tree = _pack(state, "state", tensors)
    metadata = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "state": json.dumps(tree)}
    atomic_write(Path(path), lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; bad files raise :class:`LongAQAError`."""
    path = Path(path)
    tensors, metadata = _read_safetensors(path, "checkpoint")
    if metadata.get("format") != CHECKPOINT_FORMAT:
        raise LongAQAError(f"{path}: not a longaqa training checkpoint (weights only?)")
    if metadata.get("version") != CHECKPOINT_VERSION:
        raise LongAQAError(
            f"{path}: checkpoint format version {metadata.get('version')!r}, this longaqa reads "
            f"{CHECKPOINT_VERSION!r}"
        )
    try:
        state = _unpack(json.loads(metadata["state"]), tensors)
    except (KeyError, ValueError, TypeError) as exc:
        raise LongAQAError(f"{path}: checkpoint state is corrupt ({exc})") from None
    if not isinstance(state, dict):
        raise LongAQAError(f"{path}: checkpoint state is corrupt (not a mapping)")
    return state


# --- one process per run folder ----------------------------------------------------------------------

LOCK_FILE = ".longaqa.lock"
"""Lock file in a run folder: an OS lock (``flock``) on it is held by the one process writing the folder,
and it holds that process's id. The OS releases the lock when the process exits, also on SIGKILL."""


class RunFolderLock:
    """Hold an exclusive OS lock on ``folder`` (created if needed) while writing it, so that a second
    ``train`` (or ``--resume``) on the same folder is refused instead of mixing two runs.

    ``created`` says whether this lock created the folder. On exit, a folder left holding nothing but
    the lock file (a start refused before anything was written) is cleaned up: the lock file is removed,
    and the folder too when this lock created it.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.created = False
        self._fh = None

    def __enter__(self) -> RunFolderLock:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): no lock
            return self
        self.created = not self.folder.exists()
        check_output_folder(self.folder, 0)
        try:
            fh = open(self.path, "a+")
        except OSError as exc:
            raise LongAQAError(f"{self.path}: cannot create the lock file ({_describe_os_error(exc)})") from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read(32).strip()
            fh.close()
            who = f" (process {holder})" if holder.isdigit() else ""
            raise LongAQAError(
                f"{self.folder}: another longaqa process{who} is training in this run folder; wait for it "
                "to finish (then --resume to extend it) or choose another --out"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is None:
            return
        try:
            if [p.name for p in self.folder.iterdir()] == [LOCK_FILE]:
                self.path.unlink()
                if self.created:
                    self.folder.rmdir()
        except OSError:
            pass
        finally:
            self._fh.close()  # releases the lock
            self._fh = None
