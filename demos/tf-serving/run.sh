#!/usr/bin/env bash
# The demo's one run command: starts Docker's tensorflow/serving, else tensorflow_model_server,
# else the development server, and prints which one. Options: ./run.sh --help
# $PYTHON: the Python with requirements.txt installed (default: python3, e.g. an activated venv's).
set -euo pipefail
cd "$(dirname "$0")"
exec "${PYTHON:-python3}" -m tfserving_demo.run "$@"
