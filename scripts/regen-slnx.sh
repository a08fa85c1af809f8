#!/usr/bin/env bash
# Rebuilds Berth.slnx from every project under src/, test/ and bench/ (merges then never conflict on it).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f Berth.slnx
dotnet new sln -n Berth --format slnx >/dev/null
find src test bench -name '*.csproj' -not -path '*/bin/*' -not -path '*/obj/*' 2>/dev/null | sort | xargs dotnet sln Berth.slnx add >/dev/null
