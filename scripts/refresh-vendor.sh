#!/usr/bin/env bash
# Refresh the front-end libraries served from static/vendor (no CDN at run time).
# Pulls exact versions from the npm registry and copies each built file with its licence.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A PACKAGES=(
  [htmx.org]=2.0.4
  [maplibre-gl]=4.7.1
  [axe-core]=4.10.2
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for name in "${!PACKAGES[@]}"; do
  version=${PACKAGES[$name]}
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  mkdir -p "$work/$name" && tar -xzf "$work"/"${name//\//-}"-"$version".tgz -C "$work/$name"
done
vendor=static/vendor
rm -rf "$vendor" && mkdir -p "$vendor"/{htmx,maplibre,axe}
cp "$work/htmx.org/package/dist/htmx.min.js" "$vendor/htmx/"
cp "$work/htmx.org/package/LICENSE" "$vendor/htmx/LICENSE"
cp "$work/maplibre-gl/package/dist/maplibre-gl.js" "$work/maplibre-gl/package/dist/maplibre-gl.css" "$vendor/maplibre/"
cp "$work/maplibre-gl/package/LICENSE.txt" "$vendor/maplibre/LICENSE.txt"
cp "$work/axe-core/package/axe.min.js" "$vendor/axe/"
cp "$work/axe-core/package/LICENSE" "$vendor/axe/LICENSE"
{
  echo "# Vendored front-end libraries (from the npm registry; refreshed by scripts/refresh-vendor.sh)"
  echo
  for name in "${!PACKAGES[@]}"; do echo "- $name ${PACKAGES[$name]}"; done | sort
  echo
  echo "axe-core is used only by the accessibility tests; it is not loaded by any page."
} > "$vendor/README.md"
echo "vendored into $vendor"
