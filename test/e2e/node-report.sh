#!/bin/bash
# test/e2e/node-report.sh REPORT.json [OTHER.json]: tables from ginkgo JSON reports of
# the node e2e suite (test/e2e/node-conformance.sh writes them).
#   one report:  passed / failed / skipped per group (the spec's first container, e.g.
#                "Containers Lifecycle"), then every spec that did not pass, with the
#                first line of why
#   two reports: the groups side by side (the first report's runtime on the left),
#                then every spec whose outcome differs, spec by spec
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 REPORT.json [OTHER.json]" >&2; exit 2; }
command -v jq >/dev/null || { echo "jq is needed" >&2; exit 1; }

# Each It spec as {group, name, state, why}: the group is the first container text
# without its [sig-...] and bracketed labels.
# Specs the filters left out are skipped without a reason, and left out here.
SPECS='[.[].SpecReports[]? | select(.LeafNodeType == "It") |
  select(.State != "skipped" or (.Failure.Message // "") != "") |
  {group: ((.ContainerHierarchyTexts[0] // .LeafNodeText) | gsub("\\[[^]]*\\] ?"; "") | gsub(" +$"; "")),
   name: ((.ContainerHierarchyTexts + [.LeafNodeText]) | join(" ")),
   state: (if .State == "passed" or .State == "skipped" or .State == "pending" then .State else "failed" end),
   why: ((.Failure.Message // "") | split("\n")[0] | .[0:160])}]'

if [ $# -eq 1 ]; then
	jq -r "$SPECS"' |
	  (group_by(.group) | map({group: .[0].group,
	     p: map(select(.state == "passed")) | length, f: map(select(.state == "failed")) | length,
	     s: map(select(.state == "skipped" or .state == "pending")) | length})) as $groups |
	  (["passed", "failed", "skipped", "group"] | @tsv),
	  ($groups[] | [.p, .f, .s, .group] | @tsv),
	  ([($groups | map(.p) | add // 0), ($groups | map(.f) | add // 0), ($groups | map(.s) | add // 0), "ALL"] | @tsv)' \
		"$1" | column -t -s $'\t' -o '  '
	jq -r "$SPECS"' | .[] | select(.state == "failed") | "\nFAILED  \(.name)\n        \(.why)"' "$1"
	exit 0
fi

left=$(basename "$(dirname "$(readlink -f "$1")")")
right=$(basename "$(dirname "$(readlink -f "$2")")")
jq -rn --slurpfile a "$1" --slurpfile b "$2" --arg left "$left" --arg right "$right" "
  def specs: $SPECS;
  def count(\$state): map(select(.state == \$state)) | length;
  (\$a[0] | specs) as \$l | (\$b[0] | specs) as \$r |
  ([\$l[], \$r[]] | map(.group) | unique) as \$groups |
  ([\"\(\$left) pass\", \"fail\", \"skip\", \"\(\$right) pass\", \"fail\", \"skip\", \"group\"] | @tsv),
  (\$groups[] as \$g | [(\$l | map(select(.group == \$g))), (\$r | map(select(.group == \$g)))] |
     [(.[0] | count(\"passed\")), (.[0] | count(\"failed\")), (.[0] | count(\"skipped\")),
      (.[1] | count(\"passed\")), (.[1] | count(\"failed\")), (.[1] | count(\"skipped\")), \$g] | @tsv),
  ([(\$l | count(\"passed\")), (\$l | count(\"failed\")), (\$l | count(\"skipped\")),
    (\$r | count(\"passed\")), (\$r | count(\"failed\")), (\$r | count(\"skipped\")), \"ALL\"] | @tsv)
" | column -t -s $'\t' -o '  '
jq -rn --slurpfile a "$1" --slurpfile b "$2" --arg left "$left" --arg right "$right" "
  def specs: $SPECS;
  (\$a[0] | specs) as \$l | (\$b[0] | specs) as \$r |
  ((\$r | map({key: .name, value: .}) | from_entries) as \$rs |
   \$l[] | select(.state != (\$rs[.name].state // \"absent\")) |
   \"\n\(\$left)=\(.state) \(\$right)=\(\$rs[.name].state // \"absent\")  \(.name)\n        \(if .state == \"failed\" then .why else (\$rs[.name].why // \"\") end)\")
"
