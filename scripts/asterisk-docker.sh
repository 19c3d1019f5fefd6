#!/bin/sh
# Runs the Asterisk of docker-compose.yml's `asterisk` service image as if it were a local
# binary, so that the real-Asterisk suite can use it:
#
#   ASTERISK_BIN=$PWD/scripts/asterisk-docker.sh npm run test:asterisk
#
# The suite starts Asterisk with `-C <temporary dir>/etc/asterisk.conf` and talks to it over
# loopback ports and through `-rx` on the control socket in that directory: the container
# shares the host's network and the temporary directory (same path), and gets the
# variables from-env.sh reads. ASTERISK_IMAGE picks the image, as in docker-compose.yml.
set -eu
tmp=${TMPDIR:-/tmp}
exec docker run --rm -i --network host -v "$tmp:$tmp" \
  -e ASTERISK_CONFIG_DIR -e ARI_PASSWORD -e SOFTPHONE_PASSWORD -e ASTERISK_EXTERNAL_ADDRESS \
  --entrypoint /usr/sbin/asterisk "${ASTERISK_IMAGE:-andrius/asterisk:22}" "$@"
