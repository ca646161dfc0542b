"""Model versions on disk → loaded servables, the way TF Serving manages them.

Each model has a base path with integer-named version folders. A version policy (latest N, all, or
specific versions) says which to serve; a poller picks up new folders without a restart, loading the
new version before unloading the old one, so requests never find no version. Labels (`stable`,
`canary`) name versions. Messages and status codes follow TF Serving's ServerCore and
GetModelStatusImpl.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from .errors import ServingError, invalid, not_found
from .tensors import check_shapes

log = logging.getLogger("devserver")
DEFAULT_SIGNATURE = "serving_default"


@dataclass
class Servable:
    """One loaded version: the SavedModel (TensorFlow's own loader) and its signature definitions."""

    name: str
    version: int
    path: Path
    module: object
    signature_defs: dict  # name → SignatureDef proto, as stored in saved_model.pb

    @classmethod
    def load(cls, name: str, version: int, path: Path) -> Servable:
        module = tf.saved_model.load(str(path))
        saved_model = saved_model_pb2.SavedModel()
        saved_model.ParseFromString((path / "saved_model.pb").read_bytes())
        return cls(name, version, path, module, dict(saved_model.meta_graphs[0].signature_def))

    def signature(self, signature_name: str):
        key = signature_name or DEFAULT_SIGNATURE
        if key not in self.module.signatures:
            raise invalid(f'Serving signature name: "{key}" not found in signature def')
        return self.module.signatures[key]

    @staticmethod
    def input_specs(fn) -> dict[str, tf.TensorSpec]:
        return dict(fn.structured_input_signature[1])

    def run(self, fn, arrays: dict[str, np.ndarray], output_filter=()) -> dict[str, np.ndarray]:
        """Call a signature; TensorFlow's own errors for bad values become INVALID_ARGUMENT."""
        specs = self.input_specs(fn)
        check_shapes(arrays, specs)
        try:
            outputs = fn(**{name: tf.constant(arr, dtype=specs[name].dtype) for name, arr in arrays.items()})
        except tf.errors.OpError as exc:
            raise invalid(exc.message.strip().splitlines()[-1] if exc.message.strip() else str(exc)) from None
        names = list(output_filter) or sorted(outputs)
        return {name: outputs[name].numpy() for name in names}


@dataclass
class VersionState:
    state: str  # START, LOADING, AVAILABLE, UNLOADING, END (ModelVersionStatus.State)
    error_code: str = "OK"
    error_message: str = ""


@dataclass
class Model:
    config: object  # ModelConfig proto
    loaded: dict[int, Servable] = field(default_factory=dict)
    states: dict[int, VersionState] = field(default_factory=dict)
    warned_empty: bool = False

    @property
    def base_path(self) -> Path:
        return Path(self.config.base_path)

    def versions_on_disk(self) -> list[int]:
        try:
            names = [p.name for p in self.base_path.iterdir() if p.is_dir()]
        except OSError:
            return []
        return sorted(int(n) for n in names if n.isdigit())

    def aspired(self, on_disk: list[int]) -> list[int]:
        """The versions the version policy wants served (default: the latest one)."""
        policy = self.config.model_version_policy
        choice = policy.WhichOneof("policy_choice")
        if choice == "all":
            return on_disk
        if choice == "specific":
            return [v for v in on_disk if v in set(policy.specific.versions)]
        count = policy.latest.num_versions if choice == "latest" and policy.latest.num_versions else 1
        return on_disk[-count:]


class Manager:
    """All configured models; thread-safe; `poll()` reconciles loaded versions with the disk."""

    def __init__(self, config, allow_labels_for_unavailable: bool = False):
        self._lock = threading.RLock()
        self._allow_unavailable_labels = allow_labels_for_unavailable
        self.models: dict[str, Model] = {}
        self.labels: dict[str, dict[str, int]] = {}
        self.apply_config(config, first=True)

    def apply_config(self, config, first: bool = False) -> None:
        """Adopt a (re)loaded config: labels are checked first, as TF Serving's ServerCore does."""
        with self._lock:
            labels = {}
            for model_config in config.model_config_list.config:
                known = self.labels.get(model_config.name, {})
                for label, version in sorted(model_config.version_labels.items()):
                    moved = label in known and known[label] != version
                    allowed = self._allow_unavailable_labels and not moved
                    state = self.models.get(model_config.name, Model(model_config)).states.get(version)
                    if not allowed and (state is None or state.state != "AVAILABLE"):
                        raise ServingError(
                            grpc.StatusCode.FAILED_PRECONDITION,
                            f"Request to assign label to version {version} of model {model_config.name}, "
                            "which is not currently available for inference",
                        )
                labels[model_config.name] = dict(model_config.version_labels)
            self.models = {
                c.name: self.models[c.name] if c.name in self.models else Model(c)
                for c in config.model_config_list.config
            }
            for c in config.model_config_list.config:
                self.models[c.name].config = c
            self.labels = labels
        if not first:
            log.info("model config reloaded: %s", ", ".join(self.models))

    def poll(self) -> None:
        """Load aspired versions that are not loaded yet, then unload the ones no longer aspired."""
        for model in list(self.models.values()):
            on_disk = model.versions_on_disk()
            if not on_disk and not model.warned_empty:
                log.warning(
                    "No versions of servable %s found under base path %s. Did you forget to name your leaf "
                    "directory as a number (eg. '/1/')?",
                    model.config.name,
                    model.base_path,
                )
            model.warned_empty = not on_disk
            aspired = model.aspired(on_disk)
            for version in aspired:
                failed = model.states.get(version, VersionState("START")).error_code != "OK"
                if version not in model.loaded and not failed:
                    self._load(model, version)
            for version in [v for v in model.loaded if v not in aspired]:
                with self._lock:
                    model.states[version] = VersionState("END")
                    del model.loaded[version]
                log.info("unloaded servable version {name: %s version: %d}", model.config.name, version)

    def _load(self, model: Model, version: int) -> None:
        name = model.config.name
        model.states[version] = VersionState("LOADING")
        log.info("loading servable version {name: %s version: %d} from %s", name, version, model.base_path)
        try:
            servable = Servable.load(name, version, model.base_path / str(version))
        except Exception as exc:  # a broken version folder must not stop the server
            code = "NOT_FOUND" if isinstance(exc, OSError | tf.errors.NotFoundError) else "UNKNOWN"
            model.states[version] = VersionState("END", code, str(exc).strip().splitlines()[0][:500])
            log.error("loading servable version {name: %s version: %d} failed: %s", name, version, exc)
            return
        with self._lock:
            model.loaded[version] = servable
            model.states[version] = VersionState("AVAILABLE")
        log.info("successfully loaded servable version {name: %s version: %d}", name, version)

    def resolve(self, name: str, version: int | None = None, label: str | None = None) -> Servable:
        """The servable a request names: latest, a specific version, or a label (TF Serving's messages)."""
        if version is not None and label:
            raise invalid(
                f"Both model version ({version}) and model version label ({label}) cannot be supplied."
            )
        with self._lock:
            model = self.models.get(name)
            if label:
                if label not in self.labels.get(name, {}):
                    raise invalid(f"Unrecognized servable version label: {label}")
                version = self.labels[name][label]
            if model is None or not model.loaded:
                request = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
                raise not_found(f"Servable not found for request: {request}")
            if version is None:
                return model.loaded[max(model.loaded)]
            if version not in model.loaded:
                raise not_found(f"Servable not found for request: Specific({name}, {version})")
            return model.loaded[version]

    def status(self, name: str, version: int | None = None, label: str | None = None) -> list[tuple]:
        """(version, VersionState) pairs, newest first, as GetModelStatus reports them."""
        with self._lock:
            if label:
                if label not in self.labels.get(name, {}):
                    raise invalid(f"Unrecognized servable version label: {label}")
                version = self.labels[name][label]
            model = self.models.get(name)
            states = dict(model.states) if model else {}
        if version is not None:
            if version not in states:
                raise not_found(f"Could not find version {version} of model {name}")
            return [(version, states[version])]
        if not states:
            raise not_found(f"Could not find any versions of model {name}")
        return sorted(states.items(), reverse=True)
