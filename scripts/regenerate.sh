#!/usr/bin/env bash
# The main job: regenerate every table and figure from corpus/ into figures/.
source "$(dirname "$0")/env.sh"
"$VENV/bin/analysis" figures --corpus corpus --out figures "$@"
