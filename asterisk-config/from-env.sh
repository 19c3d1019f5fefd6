#!/bin/sh
# Prints one Asterisk configuration line taken from an environment variable.
#
#   #exec /bin/sh ${ASTERISK_CONFIG_DIR:-/etc/asterisk}/from-env.sh OPTION VARIABLE
#
# in a configuration file becomes "OPTION = <value of VARIABLE>" at that place, so secrets
# and addresses can come from the container's environment instead of the files.
# Asterisk runs #exec lines only with `execincludes = yes` in asterisk.conf, and reads what
# the command prints (stdout and stderr) as configuration, so this script prints nothing
# but a configuration line or a ";" comment. When VARIABLE is unset or empty, OPTION is
# left out: for ari.conf and pjsip.conf passwords that disables the user (Asterisk refuses
# a user without a password), it never opens it.
#
# Not using Docker? Replace each #exec line by the line it would print, e.g.
# `password = <a long random password>`, and this file is not needed.
#
# ASTERISK_CONFIG_DIR (default /etc/asterisk) names the directory this script is in when
# the configuration lives elsewhere: Asterisk runs an #exec line through /bin/sh, so the
# variable is expanded there. The tests run the project's own files from a temporary
# directory this way.

option=$1
variable=$2

case "$option" in
  ''|*[!a-z_]*) echo "; from-env.sh: the option name must be lower-case letters and _"; exit 0 ;;
esac
case "$variable" in
  ''|*[!A-Za-z0-9_]*) echo "; from-env.sh: the variable name must be letters, digits and _"; exit 0 ;;
esac

value=$(printenv "$variable")
case "$value" in
  '')
    echo "; from-env.sh: $variable is not set, so $option is left unset" ;;
  *';'*|*'\'*|*'
'*)
    # ";" starts a comment in Asterisk files; refuse rather than cut the value short.
    echo "; from-env.sh: $variable holds ';', '\\' or a line break: $option is left unset" ;;
  *)
    printf '%s = %s\n' "$option" "$value" ;;
esac
