"""`python -m tfserving_devserver`: the development server, with tensorflow_model_server's flags.

The flags that matter here mean what they mean to the real server (same names, same defaults where it
makes sense), so one command line works for both; see the demo README for each flag.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from . import NAME, SERVED_BY

# A SavedModel is all this server runs. `import tensorflow` also imports Keras, and Keras imports these
# whenever they are installed (as in the workshop's shared environment): about 120 MB per process, unused.
for _optional in ("pandas", "matplotlib", "sklearn", "scipy"):
    sys.modules.setdefault(_optional, None)  # their import fails, as Keras expects when they are absent

log = logging.getLogger("devserver")
#: Taken before TensorFlow loads (seconds), so a parent killed during start-up is noticed too.
PARENT = os.getppid()


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tfserving_devserver", description=__doc__)
    p.add_argument("--port", type=int, default=8500, help="gRPC port (0: no gRPC)")
    p.add_argument("--rest_api_port", type=int, default=8501, help="REST port (0: no REST)")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (the real server binds all interfaces)"
    )
    p.add_argument("--model_name", default="default")
    p.add_argument("--model_base_path", default="")
    p.add_argument("--model_config_file", default="")
    p.add_argument("--model_config_file_poll_wait_seconds", type=int, default=0)
    p.add_argument("--file_system_poll_wait_seconds", type=int, default=1)
    p.add_argument(
        "--allow_version_labels_for_unavailable_models", type=_bool, nargs="?", const=True, default=False
    )
    p.add_argument("--enable_batching", type=_bool, nargs="?", const=True, default=False)
    p.add_argument("--batching_parameters_file", default="")
    p.add_argument("--monitoring_config_file", default="")
    return p


def load_config(args):
    from . import config

    if args.model_config_file:
        model_config = config.model_server_config(Path(args.model_config_file))
    elif args.model_base_path:
        model_config = config.single_model_config(args.model_name, args.model_base_path)
    else:
        raise SystemExit(
            "error: Both server_options.model_base_path and server_options.model_config_file are empty!"
        )
    config.check_model_config(model_config)
    return model_config


def prometheus_path(args) -> str | None:
    from . import config

    if not args.monitoring_config_file:
        return None
    prometheus = config.monitoring_config(Path(args.monitoring_config_file)).prometheus_config
    return (prometheus.path or "/monitoring/prometheus/metrics") if prometheus.enable else None


def report_batching(args) -> None:
    """Read and check the batching file like the real server would, and say plainly what happens."""
    from . import config

    if not args.enable_batching:
        return
    if args.batching_parameters_file:
        params = config.batching_parameters(Path(args.batching_parameters_file))
        log.info(
            "batching parameters read: max_batch_size=%d batch_timeout_micros=%d",
            params.max_batch_size.value,
            params.batch_timeout_micros.value,
        )
    log.warning(
        "--enable_batching: the development server runs each request on its own; "
        "request batching is a TensorFlow Serving feature"
    )


def every(seconds: int, stop: threading.Event, work) -> None:
    def loop():
        while not stop.wait(seconds):
            try:
                work()
            except Exception as exc:  # a bad config edit must not kill the server
                log.error("%s", exc)

    threading.Thread(target=loop, daemon=True).start()


def orphan_check(stop: threading.Event):
    """Stop when the process that started us is gone, so a killed notebook or test leaves no server."""

    def check():
        if os.getppid() != PARENT:
            log.warning("the parent process (pid %d) has exited: shutting down", PARENT)
            stop.set()

    return check


def config_watch(path: str, manager):
    """Re-read the model config file when its content changes (labels moved, versions added). An empty
    file is one being rewritten (an editor's save, Python's `write_text` truncates first): it is skipped
    until the next poll, where it would otherwise unload every model for a moment."""
    from . import config

    seen = Path(path).read_text()

    def check():
        nonlocal seen
        text = Path(path).read_text()
        if text != seen and text.strip():
            manager.apply_config(config.model_server_config(Path(path)))
            seen = text

    return check


def serve(args) -> None:
    from werkzeug.serving import make_server

    from .errors import ServingError
    from .grpc_service import create_server
    from .metrics import Metrics
    from .models import Manager
    from .rest import create_app

    try:
        manager = Manager(load_config(args), args.allow_version_labels_for_unavailable_models)
        path = prometheus_path(args)
        report_batching(args)
    except ServingError as exc:
        raise SystemExit(f"error: {exc.message}") from None
    manager.poll()  # initial load, before any port opens (as the real server does)
    stop = threading.Event()
    every(max(args.file_system_poll_wait_seconds, 1), stop, manager.poll)
    every(1, stop, orphan_check(stop))
    if args.model_config_file and args.model_config_file_poll_wait_seconds > 0:
        every(args.model_config_file_poll_wait_seconds, stop, config_watch(args.model_config_file, manager))
    metrics = Metrics()
    grpc_server = None
    if args.port:
        grpc_server = create_server(manager, metrics, f"{args.host}:{args.port}")
        grpc_server.start()
        log.info("Running gRPC ModelServer at %s:%d ...", args.host, args.port)
    rest_server = None
    if args.rest_api_port:
        app = create_app(manager, metrics, path)
        rest_server = make_server(args.host, args.rest_api_port, app, threaded=True)
        threading.Thread(target=rest_server.serve_forever, daemon=True).start()
        log.info("Exporting HTTP/REST API at %s:%d ...", args.host, args.rest_api_port)
        if path:
            log.info("Prometheus metrics at http://%s:%d%s", args.host, args.rest_api_port, path)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    log.info("shutting down")
    if rest_server:
        rest_server.shutdown()
    if grpc_server:
        grpc_server.stop(grace=0.5).wait()


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format=f"%(asctime)s {NAME} %(levelname)s %(message)s"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    log.warning(
        "%s: a development stand-in for machines without tensorflow_model_server. "
        "It is NOT TensorFlow Serving; use the real server in production.",
        SERVED_BY,
    )
    serve(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
