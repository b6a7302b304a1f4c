#!/usr/bin/env bash
# Installs the Debian packages Sentinel's tests and demo use (run as root). Idempotent:
# only what is missing is installed.
#   chromium                       end-to-end tests (driven by Playwright)
#   ffmpeg                         ingest, recording, clips, probe
#   GStreamer RTSP server + GI     the camera simulator (a real RTSP server); Debian's
#                                  python3-gi belongs to /usr/bin/python3
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PKGS=(chromium ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools
      gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
      gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-rtsp fonts-dejavu-core)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
