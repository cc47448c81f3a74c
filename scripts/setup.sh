#!/usr/bin/env bash
# scripts/setup.sh
# Installs everything execscope needs on a Debian/Ubuntu machine (as root) and builds it:
# the BPF toolchain, Node.js >= 20.17 if missing, npm dependencies, the BPF object, the addon and the TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: run as root (it installs Debian packages and the agent loads BPF programs)" >&2
    exit 1
  fi
}

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=17)?0:1)'
}

need_root
export DEBIAN_FRONTEND=noninteractive
pkgs=(clang llvm libbpf-dev libelf-dev zlib1g-dev make gcc g++ python3 pkg-config ca-certificates util-linux)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
command -v bpftool >/dev/null 2>&1 || [ -x /usr/sbin/bpftool ] || missing+=(bpftool)
node_ok || missing+=(nodejs npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  apt-get update -qq
  # Ubuntu ships bpftool in linux-tools; Debian as its own package.
  if ! apt-get install -y -qq "${missing[@]}" >/dev/null; then
    alt=("${missing[@]/bpftool/linux-tools-common}")
    apt-get install -y -qq "${alt[@]}" "linux-tools-$(uname -r)" >/dev/null || apt-get install -y -qq "${alt[@]}" >/dev/null
  fi
fi
if ! node_ok; then
  echo "setup.sh: Node.js >= 20.17 is required, found $(node --version 2>/dev/null || echo none); install Node 20, 22 or 24 and re-run" >&2
  exit 1
fi
if [ ! -e /sys/kernel/btf/vmlinux ]; then
  echo "setup.sh: this kernel has no BTF (/sys/kernel/btf/vmlinux); execscope needs CONFIG_DEBUG_INFO_BTF=y" >&2
  exit 1
fi

npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
echo "setup.sh: ready (node $(node --version), $(clang --version | head -1))"
