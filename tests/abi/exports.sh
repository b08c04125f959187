#!/bin/sh
# libesl.so exports its public API and nothing else: every defined dynamic
# symbol is an esl_<module>_... name, none is an esl__ internal, and every
# function a public header marks ESL_API is there.
# usage: exports.sh LIBESL_SO INCLUDE_DIR
set -eu
lib=$1 inc=$2
command -v nm >/dev/null 2>&1 || { echo "exports: no nm here"; exit 77; }
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' | sed 's/@.*//' | sort -u)
[ -n "$syms" ] || { echo "exports: $lib exports nothing"; exit 1; }
bad=$(printf '%s\n' "$syms" | grep -v '^esl_[a-z0-9]' || true)
internal=$(printf '%s\n' "$syms" | grep '^esl__' || true)
status=0
if [ -n "$bad$internal" ]; then
  echo "exports: $lib exports names outside the esl_ API:"
  printf '%s\n' $bad $internal | sort -u | sed 's/^/  /'
  status=1
fi
declared=$(sed -n 's/^ESL_API [^(]*[ *]\(esl_[a-z0-9_]*\)(.*/\1/p' "$inc"/esl/*.h | sort -u)
missing=$(printf '%s\n' "$declared" | while read -r f; do
  printf '%s\n' "$syms" | grep -qx "$f" || echo "$f"; done)
if [ -n "$missing" ]; then
  echo "exports: declared ESL_API but not exported:"
  printf '%s\n' "$missing" | sed 's/^/  /'
  status=1
fi
[ $status -eq 0 ] && echo "exports: $(printf '%s\n' "$syms" | wc -l) symbols, all esl_ API"
exit $status
