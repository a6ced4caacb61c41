#!/usr/bin/env bash
# The device check of ftlib (issue 21), prepared for a machine with a CUDA GPU; under 8 minutes.
#   FTLIB_DATA_DIR=/path/to/data bash benchmarks/device_check.sh
# 1. the fault-engine, theory, training and device tests with every trainer on cuda (FTLIB_DEVICE);
# 2. CPU against GPU sweeps of one trained model, a two-sample test per rate (benchmarks/device_compare.py);
# 3. the adversarial_ft MLP and CNN stuck-at-0 sweeps timed on the GPU: clean forward vs ftlib (the automatic
#    path and batched vmap draws) vs PyTorchFI 0.6 (ratios, benchmarks/bench_faults.py --device cuda).
# Output goes to stdout and to ${OUT:-.}/device_check.log.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
LOG=${OUT:-.}/device_check.log
export FTLIB_QUIET=1 FTLIB_CACHE_DIR=${FTLIB_CACHE_DIR:-$(mktemp -d)}
{
  status=0
  $PY -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0), torch.version.cuda)" || exit 2
  echo "== 1. tests on cuda"
  FTLIB_DEVICE=cuda timeout 240 $PY -m pytest -q -x tests/test_device.py tests/test_training.py tests/test_faults_engine.py \
      tests/test_faults_sweep.py tests/test_theory.py tests/test_regularizers.py || status=1
  echo "== 2. CPU vs GPU sweeps"
  timeout 120 $PY benchmarks/device_compare.py --device cuda || status=1
  echo "== 3. timings on the GPU"
  timeout 120 $PY benchmarks/bench_faults.py --device cuda --rates 5 --draws 10 --n 10000 --skip-engine || status=1
  exit $status
} 2>&1 | tee "$LOG"
exit "${PIPESTATUS[0]}"
