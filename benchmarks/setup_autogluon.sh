#!/usr/bin/env bash
# Create the separate virtual environment the benchmarks' `autogluon` system runs in.
#
#     bash benchmarks/setup_autogluon.sh                      # -> /opt/autogluon-venv
#     bash benchmarks/setup_autogluon.sh ~/venvs/autogluon    # another path
#     AUTODEEP_AUTOGLUON_PYTHON=~/venvs/autogluon/bin/python python benchmarks/mixed_table.py --systems autogluon
#
# AutoGluon 1.6.3 pins pandas < 3 and an older pyarrow, so it cannot share autodeep's environment (pandas 3).
# The benchmarks talk to it through parquet files and a subprocess (benchmarks/_autogluon_runner.py).
# Extras: lightgbm, catboost, xgboost, plus torch 2.13.0 (CPU build where the pip configuration offers it)
# for the NN_TORCH model. Not installed: `[all]`'s fastai (NN_FASTAI) and the vision/text/multimodal
# models, whose torchvision pins do not fit torch 2.13.0. The fitted model families are listed by
# `--check` below.
set -euo pipefail

VENV="${1:-${AUTOGLUON_VENV:-/opt/autogluon-venv}}"
PYTHON="${PYTHON:-python3}"
AUTOGLUON_VERSION=1.6.3
TORCH_VERSION=2.13.0

if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/pip" install "autogluon.tabular[lightgbm,catboost,xgboost]==$AUTOGLUON_VERSION" "torch==$TORCH_VERSION"
"$VENV/bin/python" - <<'PY'
import autogluon.tabular, pandas, torch
print(f"autogluon.tabular {autogluon.tabular.__version__}, pandas {pandas.__version__}, torch {torch.__version__}")
PY
echo "ready: AUTODEEP_AUTOGLUON_PYTHON=$VENV/bin/python (the benchmarks' default is /opt/autogluon-venv/bin/python)"
