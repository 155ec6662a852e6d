#!/usr/bin/env bash
# Installs the Debian packages handouts needs beyond Python and Pango, if missing:
#   poppler-utils        pdftotext/pdffonts/pdfinfo/pdftoppm: the tests read PDFs back
#   qpdf                 qpdf --check: the tests check PDF structure
#   libharfbuzz-subset0  fast, deterministic font subsetting in WeasyPrint (without it
#                        WeasyPrint falls back to fontTools: slower, bytes vary per run)
#   fonts-noto-cjk       Noto Sans CJK SC (SIL OFL 1.1), the face of Chinese editions
#                        (fonts.py finds it at its usual paths or through fontconfig)
#   chromium             the browser test of `handouts serve` (optional: tests skip without it)
#   npm                  fetches axe-core for that test (scripts/test-deps.sh)
set -euo pipefail
need=()
# `grep` reads the whole listing (no -q): with -q it stops at the first match, the
# lister dies of SIGPIPE, and pipefail then calls an installed package missing.
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
ldconfig -p 2>/dev/null | grep libharfbuzz-subset.so.0 >/dev/null || need+=(libharfbuzz-subset0)
fc-list 2>/dev/null | grep "Noto Sans CJK SC" >/dev/null || need+=(fonts-noto-cjk)
if [[ "${WITH_BROWSER:-0}" == 1 ]] && ! command -v chromium >/dev/null 2>&1; then
  need+=(chromium)
fi
if [[ "${WITH_BROWSER:-0}" == 1 ]] && ! command -v npm >/dev/null 2>&1; then
  need+=(npm)
fi
if ((${#need[@]} == 0)); then
  exit 0
fi
echo "system-deps: installing Debian packages: ${need[*]}"
sudo=""
if [[ $(id -u) != 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "system-deps: please install as root: apt-get install ${need[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "system-deps: done"
