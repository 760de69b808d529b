#!/usr/bin/env bash
# The test suite (installs what it needs first). Extra arguments go to pytest.
source "$(dirname "$0")/env.sh"
"$VENV/bin/python" -m pytest "$@"
