#!/usr/bin/env bash
# The demo's one run command: starts Docker's tensorflow/serving, else tensorflow_model_server,
# else the development server, and prints which one. Options: ./run.sh --help
set -euo pipefail
cd "$(dirname "$0")"
if [ -z "${PYTHON:-}" ]; then
  if [ -x ../../.venv/bin/python ]; then PYTHON=../../.venv/bin/python; else PYTHON=python3; fi
fi
exec "$PYTHON" -m tfserving_demo.run "$@"
