#!/usr/bin/env bash
# Validates the Prometheus config, the alert rules and their unit tests with promtool
# (Debian: apt-get install -y prometheus). Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: apt-get install -y prometheus (or put promtool on PATH)" >&2
  exit 1
fi

promtool check config prometheus.yml
promtool check rules alerts.yml
promtool test rules alerts.test.yml
