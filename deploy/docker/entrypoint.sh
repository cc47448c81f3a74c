#!/bin/bash
# deploy/docker/entrypoint.sh
# Starts `execscope agent` with flags read from a config directory (one file per flag), then the container args.
#
# Each file in $EXECSCOPE_CONFIG_DIR (default /etc/execscope/config.d, a mounted ConfigMap) is a flag: the
# file name is the flag name without dashes, the content its value. "true" gives a bare switch, "false" or
# an empty file leaves the flag out. Container args come last, so they win over the ConfigMap.
set -euo pipefail

config_dir="${EXECSCOPE_CONFIG_DIR:-/etc/execscope/config.d}"
args=()
if [[ -d "$config_dir" ]]; then
  # The glob skips ConfigMap bookkeeping entries (..data, ..2024_…), which start with a dot.
  for file in "$config_dir"/*; do
    [[ -f "$file" ]] || continue
    name="$(basename "$file")"
    value="$(<"$file")"
    case "$value" in
      true) args+=("--${name}") ;;
      false | "") ;;
      *) args+=("--${name}=${value}") ;;
    esac
  done
fi

exec node --max-semi-space-size=4 "${EXECSCOPE_BIN:-/app/bin/execscope.js}" agent "${args[@]}" "$@"
