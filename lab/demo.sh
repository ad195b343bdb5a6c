#!/bin/sh
# make demo: from a fresh machine to the lab with three modems and the bond at work. No questions.
set -eu
cd "$(dirname "$0")/.."
# `make demo` has installed and built already; run on its own, do both here.
if [ -z "${MAKELEVEL:-}" ]; then
  scripts/deps.sh
  node scripts/build.mjs
fi
exec node --import tsx lab/demo.ts "$@"
