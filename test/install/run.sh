#!/usr/bin/env bash
# npm run test:install: build the packages (and a rebuilt .deb with a newer version for the
# upgrade), then run the install test in a Debian 12 root.
set -euo pipefail
cd "$(dirname "$0")/../.."
V=$(node -p 'require("./package.json").version')
node packaging/build.ts
MOOR_PACKAGE_REUSE_BUILD=1 MOOR_PACKAGE_FORMATS=deb MOOR_PACKAGE_VERSION="$V+rebuild1" node packaging/build.ts
bash test/install/packages.sh "dist/moor_${V}_amd64.deb" "dist/moor_${V}+rebuild1_amd64.deb" "dist/moor-${V}-1.x86_64.rpm"
