#!/bin/sh
# `make bench [PROFILE=path/to/profile.json]`: the benchmark in the lab (see bench/README.md).
set -e
cd "$(dirname "$0")/.."
exec node --import tsx bench/run.ts "$@"
