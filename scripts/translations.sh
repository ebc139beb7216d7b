#!/usr/bin/env bash
# Extract translatable text into translations/messages.pot and merge it into each language's
# catalogue. Translators then edit translations/<lang>/LC_MESSAGES/messages.po (no compile step).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -o translations/messages.pot .
for lang in es; do
  po="translations/$lang/LC_MESSAGES/messages.po"
  if [ -f "$po" ]; then .venv/bin/pybabel update -i translations/messages.pot -d translations -l "$lang" --no-fuzzy-matching
  else .venv/bin/pybabel init -i translations/messages.pot -d translations -l "$lang"; fi
done
echo "updated: translations/*/LC_MESSAGES/messages.po"
