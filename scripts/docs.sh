#!/usr/bin/env bash
# The documentation site, docs/ -> docs/_build/html, failing on any warning as CI does
# (tests/test_docs.py). Installs what it needs first. Extra arguments go to sphinx-build.
source "$(dirname "$0")/env.sh"
"$VENV/bin/python" -m sphinx -W --keep-going -q -b html "$@" docs docs/_build/html
echo "open docs/_build/html/index.html"
