#!/bin/sh
# Translation catalogs: `make i18n-extract | i18n-update | i18n-compile` (docs/dev/translations.md).
#   extract  writes each domain's template (.pot) from the sources
#   update   merges the template into every language's .po (new msgids arrive empty)
#   compile  writes the .mo files the programs load (a test fails when one is stale)
# Each line: the package folder, the gettext domain, the Babel mapping file.
set -e
cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
LANGS="es ar"
DOMAINS="server/src/pysetl_hub_server web server/babel-web.cfg
server/src/pysetl_hub_server api server/babel-api.cfg
client/src/pysetl_hub cli client/babel.cfg"
echo "$DOMAINS" | while read -r pkg domain cfg; do
    pot="$pkg/locale/$domain.pot"
    [ -f "$cfg" ] || continue
    case "$1" in
    extract)
        $PYBABEL -q extract -F "$cfg" -k _ -k N_ -k ngettext:1,2 -k lazy_gettext -k pgettext:1c,2 \
            --no-location --sort-output --project "pysetl-hub" --copyright-holder "PySetl Hub contributors" \
            -o "$pot" "$pkg" ;;
    update)
        for lang in $LANGS; do
            po="$pkg/locale/$lang/LC_MESSAGES/$domain.po"
            if [ -f "$po" ]; then
                $PYBABEL -q update --no-fuzzy-matching --ignore-obsolete -D "$domain" -l "$lang" -i "$pot" -o "$po"
            else
                $PYBABEL -q init -D "$domain" -l "$lang" -i "$pot" -o "$po"
            fi
        done ;;
    compile)
        for lang in $LANGS; do
            po="$pkg/locale/$lang/LC_MESSAGES/$domain.po"
            [ -f "$po" ] && $PYBABEL -q compile -D "$domain" -l "$lang" -i "$po" -o "${po%.po}.mo"
        done ;;
    *) echo "usage: $0 extract|update|compile" >&2; exit 2 ;;
    esac
done
