"""Print the npm packages (name/version, as cache folders) that `deno info --json` says a module graph uses.

Reads `deno info --json <entry>` on stdin; walks from the npm specifiers the graph's modules
import to their dependencies, so that bench/device.sh can drop every other package from the
DENO_DIR it packs.
"""
import json
import sys

info = json.load(sys.stdin)
packages = info["npmPackages"]
roots = set()
for module in info["modules"]:
    if module.get("kind") == "npm":
        roots.add(module["npmPackage"])
seen, stack = set(), [r for r in roots if r in packages]
while stack:
    key = stack.pop()
    if key in seen:
        continue
    seen.add(key)
    stack.extend(d for d in packages[key].get("dependencies", []) if d in packages)
for key in sorted(seen):
    print(f"{packages[key]['name']}/{packages[key]['version']}")
