"""gunicorn settings for the review API; the run command is `gunicorn -c gunicorn.conf.py` (see README).

Environment: HOST (127.0.0.1), PORT (5000), MODEL_DIR (the model folder, see review_model.py; ./model),
WEB_CONCURRENCY (worker processes, 2), TF_THREADS (TensorFlow threads per worker, 1), ACCESS_LOG
(a file, or - for stdout; off when unset), PROMETHEUS_MULTIPROC_DIR (where the workers keep their metric
values; a fresh temporary folder when unset), PREDICTION_LOG_DIR (see review_monitoring.py; off when unset).
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # workers inherit it before importing TensorFlow

import review_model
from review_model import ModelNotFound, default_model_dir, locate

wsgi_app = "review_api:create_app()"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"

# One process per core, each with its own copy of the model (the TensorFlow runtime around it is most of a
# worker's memory) and one TensorFlow thread: a request holds a core for about a millisecond (README.md,
# "Measured"), so threads inside a worker would only queue behind each other. Requests beyond the number
# of workers wait in the listen backlog.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
backlog = 512

# Never preload: the app (and TensorFlow) must be created inside each worker, after the fork, because
# TensorFlow's thread pools do not survive fork(). The model loads before a worker takes any request.
preload_app = False
timeout = 60  # a worker silent for this long (stuck) is killed and replaced
graceful_timeout = 25  # on SIGTERM: stop accepting, let in-flight requests finish (within k8s' 30 s)
control_socket_disable = True  # no shared control socket: several servers may run side by side
limit_request_line = 4094
limit_request_fields = 50

accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")


def on_starting(server):
    """Fail fast, with one clear error, before any worker starts: no model folder (read here), or a model
    that breaks the contract (checked by `python review_model.py` in a child process, so that this
    master process never loads TensorFlow: its thread pools would not survive the fork into workers)."""
    try:
        info = locate(default_model_dir())
    except ModelNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    check = [sys.executable, review_model.__file__, "--model-dir", str(default_model_dir())]
    if subprocess.run(check, stdout=subprocess.DEVNULL).returncode != 0:
        sys.exit(2)  # review_model.py has printed the error
    server.log.info("serving model %r version %s from %s", info.name, info.version, info.path)
    metrics_folder()


def metrics_folder() -> None:
    """prometheus_client's multiprocess mode: each worker writes its counts to files in one folder, which
    /metrics adds up. The folder must be empty at start (old files would add an earlier run's counts), and
    the workers inherit its name from this process's environment."""
    global _own_metrics_folder
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        for stale in os.scandir(folder) if os.path.isdir(folder) else ():
            if stale.name.endswith(".db"):
                os.remove(stale.path)
        os.makedirs(folder, exist_ok=True)
    else:
        folder = tempfile.mkdtemp(prefix="review-api-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_metrics_folder = folder


_own_metrics_folder = None


def child_exit(server, worker):
    """A worker that exits stops counting as live (its totals stay in the sum)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_folder:
        shutil.rmtree(_own_metrics_folder, ignore_errors=True)
