#!/usr/bin/env bash
# Refresh the front-end assets under static/vendor/ from the npm registry.
# The product serves them itself, so it works with no network and no CDN.
# Run by hand when upgrading (then commit the result); nothing runs it at
# build time.
set -euo pipefail

HTMX_VERSION=2.0.11
LUCIDE_VERSION=1.62.0
ICONS=(users contact mail mails inbox settings log-out search plus refresh-cw
       user user-plus circle-check circle-alert plug unplug pencil trash-2
       send reply paperclip download upload chevron-left chevron-right menu x
       shield message-square)

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

npm pack --silent "htmx.org@$HTMX_VERSION" "lucide-static@$LUCIDE_VERSION" >/dev/null
mkdir htmx lucide
tar xzf "htmx.org-$HTMX_VERSION.tgz" -C htmx --strip-components=1
tar xzf "lucide-static-$LUCIDE_VERSION.tgz" -C lucide --strip-components=1

dest="$root/static/vendor"
rm -rf "$dest/htmx" "$dest/lucide"
mkdir -p "$dest/htmx" "$dest/lucide"
cp htmx/dist/htmx.min.js htmx/LICENSE "$dest/htmx/"
echo "htmx.org $HTMX_VERSION (npm)" > "$dest/htmx/VERSION"

# One sprite of the icons the templates use: <svg><use href="...#name">.
{
  echo '<svg xmlns="http://www.w3.org/2000/svg">'
  for name in "${ICONS[@]}"; do
    body=$(sed -n '/^>$/,/<\/svg>/p' "lucide/icons/$name.svg" | sed '1d;$d')
    echo "<symbol id=\"$name\" viewBox=\"0 0 24 24\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\" stroke-linecap=\"round\" stroke-linejoin=\"round\">$body</symbol>"
  done
  echo '</svg>'
} > "$dest/lucide/icons.svg"
cp lucide/LICENSE "$dest/lucide/"
echo "lucide-static $LUCIDE_VERSION (npm)" > "$dest/lucide/VERSION"
