#!/usr/bin/env bash
# Run the "main job" demo (dump a shop, restore it, upgrade it to release 3,
# check); see demo/run.py.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python demo/run.py "$@"
