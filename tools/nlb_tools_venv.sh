#!/usr/bin/env bash
# The Python environment in which tests/metrics/nlb_tools_test.ts runs the Neural Latents
# Benchmark's own evaluation code (nlb_tools.evaluation) against blend's metrics.
#
# nlb-tools 0.0.4 and pynwb 2.3.0 (which `import nlb_tools` needs) come from PyPI, pinned
# by version and hash, installed with --no-deps into a venv that also sees Debian's
# python3-numpy, -scipy, -sklearn, -pandas, -h5py and -hdmf (nlb-tools asks for
# pandas <= 1.3.4, which has no build for this Python; its code runs on Debian's 1.5).
# .ci/run installs those Debian packages first, then runs this script.
#
# Idempotent: a venv that already imports nlb_tools.evaluation at the pinned version is
# kept. Prints the venv's python on success.
#   BLEND_NLB_VENV  where the venv lives (default ~/.cache/blend/nlb-tools-0.0.4; the test
#                   looks there too)
set -euo pipefail

NLB_TOOLS_VERSION=0.0.4
venv="${BLEND_NLB_VENV:-${HOME:-/root}/.cache/blend/nlb-tools-${NLB_TOOLS_VERSION}}"

ready() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" - "$NLB_TOOLS_VERSION" >/dev/null 2>&1 <<'EOF'
import sys
from importlib.metadata import version
import nlb_tools.evaluation, sklearn, pandas, h5py, scipy  # noqa: F401
assert version("nlb-tools") == sys.argv[1], version("nlb-tools")
EOF
}

if ready; then
  echo "$venv/bin/python"
  exit 0
fi

for module in numpy scipy sklearn pandas h5py hdmf; do
  /usr/bin/python3 -c "import $module" 2>/dev/null || {
    echo "nlb_tools_venv: Debian's python3 lacks $module (apt-get install python3-numpy" \
      "python3-scipy python3-sklearn python3-pandas python3-h5py python3-hdmf python3-venv)" >&2
    exit 1
  }
done

rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
/usr/bin/python3 -m venv --system-site-packages "$venv"
requirements=$(mktemp)
trap 'rm -f "$requirements"' EXIT
cat >"$requirements" <<EOF
nlb-tools==${NLB_TOOLS_VERSION} --hash=sha256:589b24b02d622e099e4c3aec65ebc9ff2079711a10bb092647fab8d94702016c
pynwb==2.3.0 --hash=sha256:3a6c50df4bb3f4f71275c07d86c1191f60182ec6c7e43fa1f514b41cdad88d97
EOF
"$venv/bin/python" -m pip install --quiet --no-input --disable-pip-version-check \
  --no-deps --require-hashes -r "$requirements" >&2

if ! ready; then
  echo "nlb_tools_venv: $venv was built but does not import nlb_tools.evaluation" >&2
  "$venv/bin/python" -c "import nlb_tools.evaluation" >&2 || true
  exit 1
fi
echo "$venv/bin/python"
