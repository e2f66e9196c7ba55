#!/usr/bin/env bash
# Installs the Debian packages son1k needs to build, test and benchmark, when they are
# missing. As root it runs apt-get; otherwise it names what to install and stops.
set -euo pipefail

needed=(libsqlite3-dev libcrypt-dev libssl-dev libcurl4-openssl-dev pkg-config libfluidsynth-dev timgm6mb-soundfont python3-venv
        libespeak-ng-dev espeak-ng librubberband-dev libsndfile1-dev postgresql-15)
if [ "${1:-}" = "--bench" ]; then needed+=(wrk); fi

missing=()
for pkg in "${needed[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = "0" ]; then
        echo "installing: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "son1k needs these Debian packages: ${missing[*]}" >&2
        echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

if ! command -v swift >/dev/null 2>&1 && [ ! -x /opt/swift/usr/bin/swift ]; then
    echo "son1k needs Swift 6.3 (swift on PATH or /opt/swift/usr/bin/swift)" >&2
    exit 1
fi
