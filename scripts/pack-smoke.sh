#!/usr/bin/env bash
# Every published package as a new user gets it, from its tarball alone:
#   1. `pnpm pack` each package (workspace:* becomes the real version);
#   2. each tarball holds no test code or fixture, and publint (strict) and attw (ESM-only profile)
#      report nothing on it;
#   3. the tarballs are installed with npm into a scratch project outside the workspace, where
#      scripts/pack-smoke.mjs imports the public API, explains a zoo model and runs
#      `npx blameboard list methods` and `npx blameboard explain` (a zoo model, an ONNX file);
#   4. every ```js example of every package README (as installed) runs there.
# Needs a built workspace (pnpm build) and the npm registry for the tarballs' dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export ONNXRUNTIME_NODE_INSTALL=skip

PACKAGES=(packages/core packages/tfjs packages/datasets packages/models packages/methods packages/metrics packages/reports apps/runner)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/blameboard-pack-smoke-XXXXXX")
# PACK_SMOKE_KEEP=1 keeps the scratch project (and says where) to look into a failure.
trap 'if [ -n "${PACK_SMOKE_KEEP:-}" ]; then echo "pack-smoke: kept $scratch"; else rm -rf "$scratch"; fi' EXIT
mkdir -p "$scratch/tarballs" "$scratch/project" "$scratch/cache"

fail() { echo "pack-smoke: $*" >&2; exit 1; }

for p in "${PACKAGES[@]}"; do
  tgz=$(cd "$p" && pnpm pack --pack-destination "$scratch/tarballs" | tail -1)
  [ -f "$tgz" ] || tgz="$scratch/tarballs/$(basename "$tgz")"
  name=$(basename "$tgz")
  # Test code and fixtures stay in the workspace: only dist (no tests), README and product data ship.
  leaked=$(tar tzf "$tgz" | grep -E '\.test\.|test-utils|/fixtures/|/src/|\.tsbuildinfo$|/bench/' || true)
  [ -z "$leaked" ] || fail "$name ships test or source files:"$'\n'"$leaked"
  lint=$(pnpm exec publint run "$tgz" --strict 2>&1) || fail "publint on $name:"$'\n'"$lint"
  grep -q 'All good!' <<< "$lint" || fail "publint on $name reports:"$'\n'"$lint"
  types=$(pnpm exec attw "$tgz" --profile esm-only --format ascii --no-emoji --no-color 2>&1) || fail "attw on $name:"$'\n'"$types"
  echo "pack-smoke: $name: $(tar tzf "$tgz" | wc -l) files, $(du -h "$tgz" | cut -f1); publint and attw (esm-only) report nothing"
done

cd "$scratch/project"
echo '{ "name": "blameboard-pack-smoke", "private": true, "type": "module" }' > package.json
npm install --no-audit --no-fund --loglevel=error "$scratch"/tarballs/*.tgz > "$scratch/npm.log" 2>&1 || { cat "$scratch/npm.log"; fail "npm install of the tarballs failed"; }
echo "pack-smoke: installed the tarballs with npm: node_modules $(du -sh node_modules | cut -f1)"
cp "$root/scripts/pack-smoke.mjs" .
# The CLI keeps its compile cache where it is told: inside the scratch folder.
BLAMEBOARD_CACHE_DIR="$scratch/cache" node pack-smoke.mjs

# Each README's runnable examples (```js blocks), from the installed package as its user reads it.
for readme in node_modules/@blameboard/*/README.md node_modules/blameboard/README.md; do
  n=$(node -e '
    const fs = require("fs");
    const blocks = [...fs.readFileSync(process.argv[1], "utf8").matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    blocks.forEach((b, i) => fs.writeFileSync(`readme-example-${i}.mjs`, b));
    console.log(blocks.length);
  ' "$readme")
  [ "$n" -gt 0 ] || fail "$readme has no runnable \`\`\`js example"
  for ((i = 0; i < n; i++)); do
    BLAMEBOARD_CACHE_DIR="$scratch/cache" node "readme-example-$i.mjs" > "$scratch/example.log" 2>&1 || { cat "$scratch/example.log"; fail "example $((i + 1)) of $readme failed"; }
    rm "readme-example-$i.mjs"
  done
  echo "pack-smoke: ${readme#node_modules/}: $n example(s) ran"
done
echo "pack-smoke: ok"
