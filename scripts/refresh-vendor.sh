#!/usr/bin/env bash
# Refresh the front-end libraries served from static/vendor (no CDN at run time).
# Pulls exact versions from the npm registry and copies each built file with its licence.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A PACKAGES=(
  [htmx.org]=2.0.4
  [maplibre-gl]=4.7.1
  [axe-core]=4.10.2
  [tileserver-gl-styles]=2.0.0
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for name in "${!PACKAGES[@]}"; do
  version=${PACKAGES[$name]}
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  mkdir -p "$work/$name" && tar -xzf "$work"/"${name//\//-}"-"$version".tgz -C "$work/$name"
done
vendor=static/vendor
rm -rf "$vendor" && mkdir -p "$vendor"/{htmx,maplibre,axe,glyphs}
cp "$work/htmx.org/package/dist/htmx.min.js" "$vendor/htmx/"
cp "$work/htmx.org/package/LICENSE" "$vendor/htmx/LICENSE"
cp "$work/maplibre-gl/package/dist/maplibre-gl.js" "$work/maplibre-gl/package/dist/maplibre-gl.css" "$vendor/maplibre/"
cp "$work/maplibre-gl/package/LICENSE.txt" "$vendor/maplibre/LICENSE.txt"
cp "$work/axe-core/package/axe.min.js" "$vendor/axe/"
cp "$work/axe-core/package/LICENSE" "$vendor/axe/LICENSE"
# Map label glyphs (signed-distance-field PBFs) for Noto Sans Regular: only Basic Latin + Latin-1
# (0-255) and Latin Extended-A (256-511, Spanish and other accents); the map's street names need no more.
glyphs="$work/tileserver-gl-styles/package/fonts/Noto Sans Regular"
mkdir -p "$vendor/glyphs/Noto Sans Regular"
cp "$glyphs/0-255.pbf" "$glyphs/256-511.pbf" "$vendor/glyphs/Noto Sans Regular/"
cp "$work/tileserver-gl-styles/package/LICENSE.md" "$vendor/glyphs/LICENSE.md"
printf '%s\n' "Noto Sans (c) Google, licensed under the SIL Open Font License 1.1 (https://openfontlicense.org)." \
  "The glyph PBFs come from the npm package tileserver-gl-styles; its licence is LICENSE.md." > "$vendor/glyphs/NOTICE"
{
  echo "# Vendored front-end libraries (from the npm registry; refreshed by scripts/refresh-vendor.sh)"
  echo
  for name in "${!PACKAGES[@]}"; do echo "- $name ${PACKAGES[$name]}"; done | sort
  echo
  echo "glyphs/ holds the map's label font (Noto Sans Regular, ranges 0-255 and 256-511) from tileserver-gl-styles."
  echo "axe-core is used only by the accessibility tests; it is not loaded by any page."
} > "$vendor/README.md"
echo "vendored into $vendor"
