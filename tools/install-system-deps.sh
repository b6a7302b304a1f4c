#!/usr/bin/env bash
# Installs the Debian packages Sentinel's tests use: the one prerequisite step of the test
# command. Run it as root or as a user with sudo (it asks sudo for the apt steps only).
# Idempotent: only what is missing is installed. The demo (`npm start`) needs none of this:
# without them it uses the ffmpeg bundled from npm and the built-in RTSP server.
#   chromium                       end-to-end tests (driven by Playwright)
#   ffmpeg                         ingest, recording, clips, probe
#   postgresql, redis-server       the multi-replica tests (the harness starts its own instances)
#   GStreamer RTSP server + GI     the camera simulator (a real RTSP server); Debian's
#                                  python3-gi belongs to /usr/bin/python3
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PKGS=(chromium ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools
      gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
      gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-rtsp fonts-dejavu-core
      postgresql redis-server)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "all system packages present"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo --preserve-env=DEBIAN_FRONTEND)
else
  echo "install-system-deps: needs root to install ${missing[*]}: run it as root, or install sudo" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
