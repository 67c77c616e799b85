#!/usr/bin/env bash
# Copy the pinned front-end packages (package.json / package-lock.json) into the
# git-ignored static/vendor folder. Run by `make run`, `make test` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/@uswds/uswds ] || [ ! -d node_modules/htmx.org ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
dest=clinician_app/static/vendor
rm -rf "$dest"
mkdir -p "$dest/uswds" "$dest/htmx"
cp -r node_modules/@uswds/uswds/dist/css node_modules/@uswds/uswds/dist/fonts \
      node_modules/@uswds/uswds/dist/img node_modules/@uswds/uswds/dist/js "$dest/uswds/"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/htmx/"
