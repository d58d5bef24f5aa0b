#!/bin/sh
# The module exports exactly one symbol: its module record.
set -eu
syms=$(nm -D --defined-only "$1" | awk '{print $3}' | grep -v '^_' | sort)
if [ "$syms" != "auth_fallback_module" ]; then
  echo "unexpected exported symbols:"; echo "$syms"; exit 1
fi
echo "exports: auth_fallback_module only"
