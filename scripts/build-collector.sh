#!/usr/bin/env bash
# scripts/build-collector.sh
# Builds (once, cached) an OpenTelemetry Collector from test/collector/manifest.yaml and validates otel-config/.
#
# Usage:
#   scripts/build-collector.sh               build if missing, then validate every otel-config/collector*.yaml
#   scripts/build-collector.sh --print-path  build if missing, print the binary's path on stdout (tests use this)
#   scripts/build-collector.sh --force       rebuild even when a cached binary exists
#
# The binary is cached as $EXECSCOPE_CACHE_DIR/otelcol-<hash> (default $XDG_CACHE_HOME/execscope, else
# $HOME/.cache/execscope). The hash covers the manifest, the builder version and the Go version, so editing
# the manifest rebuilds and nothing else does. Progress goes to stderr; only --print-path writes to stdout.

set -euo pipefail

BUILDER_VERSION="v0.165.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MANIFEST="$ROOT/test/collector/manifest.yaml"
CACHE_DIR="${EXECSCOPE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/execscope}"

mode="validate"
force=0
for arg in "$@"; do
  case "$arg" in
    --print-path) mode="print-path" ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build-collector: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "build-collector: $*" >&2; }

# Go may be installed without being on PATH (CI shells, sudo).
if ! command -v go >/dev/null 2>&1; then
  if [[ -x /usr/local/go/bin/go ]]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    log "Go toolchain not found (looked on PATH and in /usr/local/go/bin); the Collector builder needs Go"
    exit 3
  fi
fi

go_version="$(go env GOVERSION)"
hash="$( { cat "$MANIFEST"; echo "$BUILDER_VERSION"; echo "$go_version"; } | sha256sum | cut -c1-16)"
binary="$CACHE_DIR/otelcol-$hash"

build() {
  local started builder_dir work status
  started=$(date +%s)
  builder_dir="$CACHE_DIR/builder-$BUILDER_VERSION"
  if [[ ! -x "$builder_dir/builder" ]]; then
    log "installing go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION into $builder_dir"
    GOBIN="$builder_dir" go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION" >&2
  fi
  work="$(mktemp -d "$CACHE_DIR/build-$hash.XXXXXX")"
  cp "$MANIFEST" "$work/manifest.yaml"
  log "building the Collector from $MANIFEST with $go_version in $work (several minutes on 2 cores)"
  # The builder writes go.mod and the sources, then runs `go mod tidy`, which also resolves the *test* imports
  # of every component. Some contrib test-only modules are not served by the module proxy here (403), so that
  # step can fail although every module the binary needs is available. When it does, tidy again with -e
  # (which tolerates the missing test-only modules) and compile ourselves.
  status=0
  (cd "$work" && "$builder_dir/builder" --config manifest.yaml --skip-compilation >&2) || status=$?
  if [[ $status -ne 0 && -f "$work/_build/go.mod" && -f "$work/_build/components.go" ]]; then
    log "the builder's go mod tidy failed (see above); retrying it with -e"
    status=0
    (cd "$work/_build" && go mod tidy -e -compat=1.25 >&2) || status=$?
  fi
  if [[ $status -eq 0 ]]; then
    (cd "$work/_build" && go build -trimpath -ldflags='-s -w' -o otelcol-execscope . >&2) || status=$?
  fi
  if [[ $status -ne 0 || ! -x "$work/_build/otelcol-execscope" ]]; then
    log "the Collector build failed (exit $status); build directory kept at $work"
    exit 4
  fi
  # Rename into place so a concurrent reader never sees a half-written binary.
  cp "$work/_build/otelcol-execscope" "$binary.tmp.$$"
  mv -f "$binary.tmp.$$" "$binary"
  rm -rf "$work"
  log "built $binary in $(( $(date +%s) - started ))s"
}

mkdir -p "$CACHE_DIR"
if [[ $force -eq 1 || ! -x "$binary" ]]; then
  # One build at a time: a test and a developer may ask for the binary together.
  exec 9>"$CACHE_DIR/otelcol-$hash.lock"
  flock 9
  if [[ $force -eq 1 || ! -x "$binary" ]]; then
    build
  fi
  flock -u 9
else
  log "using cached $binary"
fi

if [[ "$mode" == "print-path" ]]; then
  echo "$binary"
  exit 0
fi

shopt -s nullglob
configs=("$ROOT"/otel-config/collector*.yaml)
if [[ ${#configs[@]} -eq 0 ]]; then
  log "no otel-config/collector*.yaml to validate"
  exit 5
fi
failed=0
for config in "${configs[@]}"; do
  if "$binary" validate --config "$config" >&2; then
    log "valid: ${config#"$ROOT"/}"
  else
    log "INVALID: ${config#"$ROOT"/}"
    failed=1
  fi
done
exit $failed
