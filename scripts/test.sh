#!/usr/bin/env bash
# The test command for a fresh machine (Debian 12 or Ubuntu, Node 20+): installs what the
# operating system must provide when it is missing, then the project's dependencies, then
# runs the tests.
#
#   bash scripts/test.sh
#
# System packages: redis-server (the queue tests start their own Redis), espeak-ng (<Say>),
# sox with libsox-fmt-mp3 (<Play> audio), curl, and the SIP phones of the real-Asterisk SIP
# test: baresip-core (baresip) and sip-tester (sipp), and chromium (the queue dashboard's
# browser test drives /usr/bin/chromium with playwright-core). Run as root it installs the missing
# ones with apt-get; otherwise it stops and prints the apt-get line to run.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)
if [ -z "$node_major" ]; then
  echo "scripts/test.sh: node is not installed; install Node.js 20 or newer (https://nodejs.org)" >&2
  exit 1
fi
if [ "$node_major" -lt 20 ]; then
  echo "scripts/test.sh: Node.js 20 or newer is needed, this is $(node --version); install a newer one (https://nodejs.org)" >&2
  exit 1
fi

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
have redis-server || missing+=(redis-server)
have espeak-ng || missing+=(espeak-ng)
have sox || missing+=(sox)
# mp3 decoding for <Play> of remote mp3 files (sox alone reads wav only)
dpkg -s libsox-fmt-mp3 >/dev/null 2>&1 || missing+=(libsox-fmt-mp3)
have curl || missing+=(curl)
# The SIP phones of the real-Asterisk SIP test (npm run test:asterisk).
have baresip || missing+=(baresip-core)
have sipp || missing+=(sip-tester)
# The browser of the queue dashboard's test (test/integration/http/*.browser.test.ts).
have chromium || missing+=(chromium)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "scripts/test.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "scripts/test.sh: missing system packages: ${missing[*]}. Install them with:" >&2
    echo "sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

npm ci --no-audit --no-fund
npm test
