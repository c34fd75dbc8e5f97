#!/usr/bin/env bash
# Debian packages some tests drive as real programs: libfaketime (the due engine's acceptance run),
# Chromium (the timeline page's screenshot test) and openssl (throwaway certificates for the SMTP TLS
# tests). Installs what is missing; needs root.
set -euo pipefail
missing=()
command -v faketime >/dev/null 2>&1 || missing+=(faketime)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run as root, or their tests skip outside CI)" >&2
  exit 0
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
