#!/bin/sh
# Open the report in headless Chromium: the page's title must be right, every
# image must have loaded (naturalWidth > 0), and a screenshot must come out.
# Skips (77) where chromium is not installed.
# Usage: run.sh ESL FIGCHECK [esl report options...]
set -u
esl=$1
check=$2
shift 2
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "chromium is not installed: skipping"
  exit 77
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$ROOT" || exit 1
"$esl" report "$@" -o "$tmp/report.html" || { echo "esl report failed: $?"; exit 1; }

# A copy of the page with a script that writes each image's state into the DOM.
sed 's|</body></html>|<script>window.addEventListener("load",function(){for(const i of document.images)i.setAttribute("data-check",i.complete\&\&i.naturalWidth>0?"loaded":"broken");document.body.setAttribute("data-images",String(document.images.length));});</script></body></html>|' \
  "$tmp/report.html" >"$tmp/check.html"
flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync"
# shellcheck disable=SC2086
timeout 120 "$browser" $flags --user-data-dir="$tmp/profile1" --virtual-time-budget=5000 \
  --enable-logging=stderr --v=0 \
  --dump-dom "file://$tmp/check.html" >"$tmp/dom.html" 2>"$tmp/chromium.err"
# shellcheck disable=SC2086
timeout 120 "$browser" $flags --user-data-dir="$tmp/profile2" --window-size=1280,2400 \
  --screenshot="$tmp/shot.png" "file://$tmp/report.html" >/dev/null 2>>"$tmp/chromium.err"

fail=0
images=$(grep -o '<img' "$tmp/report.html" | wc -l)
loaded=$(grep -o 'data-check="loaded"' "$tmp/dom.html" | wc -l)
broken=$(grep -o 'data-check="broken"' "$tmp/dom.html" | wc -l)
echo "report: $images images, $loaded loaded in chromium, $broken broken"
grep -q '<title>esl report</title>' "$tmp/dom.html" || { echo "title missing in the DOM"; fail=1; }
[ "$images" -ge "${MIN_IMAGES:-1}" ] || { echo "expected at least ${MIN_IMAGES:-1} images"; fail=1; }
[ "$loaded" -eq "$images" ] && [ "$broken" -eq 0 ] || { echo "not every image loaded"; fail=1; }
grep -q 'src="http' "$tmp/report.html" && { echo "the report refers to the network"; fail=1; }
# The page's console must stay empty: no script error, no resource that failed to load.
if grep -q ':CONSOLE' "$tmp/chromium.err"; then
  echo "the page logged errors:"; grep ':CONSOLE' "$tmp/chromium.err"; fail=1
fi
if [ -n "${EXPECT:-}" ] && ! grep -qF "$EXPECT" "$tmp/dom.html"; then
  echo "the page lacks '$EXPECT'"; fail=1
fi
# Without --law the page reports the law esl predict answers with: the same fingerprint.
case " $* " in
*" --law "*) ;;
*) hash=$("$esl" predict --model flux-dev --height 512 --width 512 --steps 20 --format json |
          sed -n 's/.*"law_hash": "\(.*\)".*/\1/p')
   if [ -z "$hash" ] || ! grep -qF "&quot;law_hash&quot;: &quot;$hash&quot;" "$tmp/report.html"; then
     echo "the page does not report esl predict's law ('$hash')"; fail=1
   fi ;;
esac
"$check" "$tmp/shot.png" --png 1280x2400 || fail=1
[ $fail -eq 0 ] || tail -5 "$tmp/chromium.err"
exit $fail
