#!/usr/bin/env bash
# Fails when a C++ file differs from what .clang-format makes of it (`make format` fixes it).
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t files < <(find src tests samples bench -name '*.cc' -o -name '*.h' | sort)
clang-format --dry-run --Werror "${files[@]}"
echo "format: ${#files[@]} files clean"
