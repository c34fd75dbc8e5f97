#!/usr/bin/env bash
# Installs Debian's chromium when /usr/bin/chromium is absent: the timeline page's screenshot test
# drives it headless. Needs root; without root it says what is missing and the test skips (outside CI).
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium is missing (run this script as root to install it)" >&2
  exit 0
fi
echo "installing chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
