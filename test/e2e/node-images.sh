#!/bin/bash
# test/e2e/node-images.sh: pushes stand-ins for the images Kubernetes v1.37.2's node e2e
# suite ([NodeConformance]) pulls to the critest-kit's loopback registry, under the
# paths the kit maps registry.k8s.io to (registry.k8s.io/X -> 127.0.0.1:5000/X).
#
# Each one is built on an image the kit already pushed (../shared/critest-kit/images.sh:
# Debian's busybox with glibc, in the official busybox layout), by adding a layer and
# changing the config, over the registry API, with fixed mtimes (same digests each run):
#   e2e-test-images/busybox:1.37.0-2        kit busybox + nmeter (test/e2e/nmeter.cc)
#   e2e-test-images/agnhost:2.66.1          kit busybox + agnhost (built by test/k8s/build.sh),
#                                           bash, curl, OpenBSD nc, nmeter, porter's certificates, /uploads,
#                                           user 1000 in group 50000; ENTRYPOINT /agnhost pause
#   e2e-test-images/nonroot:1.5             kit busybox, USER 1234
#   e2e-test-images/glibc-dns-testing:2.1.1 kit busybox + Debian's hostname, hosts from files
#   e2e-test-images/nginx:1.27.0-2          the kit's nginx stand-in, another tag
#   e2e-test-images/nonewprivs:1.4          the kit's nonewprivs stand-in, another tag
#   pause:3.10.2                            the kit's pause stand-in, another tag
# Needs root only for nothing; needs the registry up (the kit's registry.sh), jq, curl,
# g++ and the agnhost binary in $BERTH_K8S_CACHE/bin.
set -euo pipefail
REPO_DIR=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
CACHE=${BERTH_K8S_CACHE:-/var/cache/berth/k8s-v1.37.2}
REGISTRY=http://127.0.0.1:5000
EPOCH=1546300800 # the kit's fixed mtime
MT_MANIFEST=application/vnd.docker.distribution.manifest.v2+json
MT_LAYER=application/vnd.docker.image.rootfs.diff.tar.gzip
E2E=e2e-test-images

log() { printf '[node-images] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

curl -fsS -o /dev/null --max-time 5 "$REGISTRY/v2/" || die "no registry on $REGISTRY (../shared/critest-kit/registry.sh start)"
[ -x "$CACHE/bin/agnhost" ] || die "no agnhost at $CACHE/bin/agnhost: test/k8s/build.sh agnhost"
[ -f "$CACHE/agnhost/localhost.crt" ] || die "no agnhost certificates in $CACHE/agnhost: test/k8s/build.sh agnhost"
BUILD=$(mktemp -d /tmp/berth-node-images-XXXXXX)
trap 'rm -rf "$BUILD"' EXIT
mkdir -p "$BUILD/blobs"

manifest_of() { # REPO TAG: the manifest, or nothing if the registry has no such tag
	curl -fsS -H "Accept: $MT_MANIFEST" "$REGISTRY/v2/$1/manifests/$2" 2>/dev/null || true
}
blob_of() { curl -fsS "$REGISTRY/v2/$1/blobs/$2"; } # REPO DIGEST

# put_blob REPO DIGEST FILE|--from SOURCE_REPO: uploads FILE, or mounts the blob from
# SOURCE_REPO (it is there already); nothing if REPO has it.
put_blob() {
	local repo=$1 digest=$2 location
	curl -fsS -o /dev/null -I "$REGISTRY/v2/$repo/blobs/$digest" 2>/dev/null && return 0
	if [ "$3" = --from ]; then
		curl -fsS -o /dev/null -X POST "$REGISTRY/v2/$repo/blobs/uploads/?mount=$digest&from=$4" 2>/dev/null || true
		curl -fsS -o /dev/null -I "$REGISTRY/v2/$repo/blobs/$digest" 2>/dev/null && return 0
		# No cross-repository mount here: a copy then.
		blob_of "$4" "$digest" >"$BUILD/copied" || die "$digest is not in $4"
		put_blob "$repo" "$digest" "$BUILD/copied"
		rm -f "$BUILD/copied"
		return 0
	fi
	location=$(curl -fsS -X POST -D - -o /dev/null "$REGISTRY/v2/$repo/blobs/uploads/" | tr -d '\r' |
		awk 'tolower($1) == "location:" { print $2 }')
	[ -n "$location" ] || die "the registry gave no upload location for $repo"
	case "$location" in http://* | https://*) ;; *) location=$REGISTRY$location ;; esac
	case "$location" in *\?*) location="$location&digest=$digest" ;; *) location="$location?digest=$digest" ;; esac
	curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$3" "$location" ||
		die "uploading $digest to $repo failed"
}

# make_layer DIR: a gzip'd tar of DIR (sorted, numeric owners, fixed mtime) into
# $BUILD/blobs; prints "DIGEST DIFF_ID SIZE".
make_layer() {
	local dir=$1 tar=$BUILD/layer.tar digest diff_id
	(cd "$dir" && ls -A | LC_ALL=C sort) >"$BUILD/layer.top"
	tar -C "$dir" --sort=name --numeric-owner --mtime="@$EPOCH" --format=gnu -cf "$tar" -T "$BUILD/layer.top"
	diff_id=sha256:$(sha256sum "$tar" | cut -d' ' -f1)
	gzip -n -9 -c "$tar" >"$tar.gz"
	digest=sha256:$(sha256sum "$tar.gz" | cut -d' ' -f1)
	mv "$tar.gz" "$BUILD/blobs/${digest#sha256:}"
	rm -f "$tar"
	echo "$digest $diff_id $(stat -c %s "$BUILD/blobs/${digest#sha256:}")"
}

# derive FROM_REPO FROM_TAG TO_REPO TO_TAG JQ_CONFIG_FILTER [LAYER_DIR...]: pushes
# TO_REPO:TO_TAG as FROM's image with the layers of the LAYER_DIRs on top and its
# container config passed through the jq filter.
derive() {
	local from_repo=$1 from_tag=$2 to_repo=$3 to_tag=$4 filter=$5
	shift 5
	local manifest config layer digest diff_id size description
	manifest=$(manifest_of "$from_repo" "$from_tag")
	[ -n "$manifest" ] || die "$from_repo:$from_tag is not in the registry (run ../shared/critest-kit/images.sh)"
	config=$(blob_of "$from_repo" "$(jq -r .config.digest <<<"$manifest")")
	for digest in $(jq -r '.layers[].digest' <<<"$manifest"); do put_blob "$to_repo" "$digest" --from "$from_repo"; done
	# Each tag its own image id (a label says which), as upstream's are: removing one by
	# id must not take the other tags with it.
	config=$(jq -c --arg tag "$to_repo:$to_tag" "$filter"' | .config.Labels += {"io.berth.test.image": $tag}' <<<"$config")
	for layer in "$@"; do
		read -r digest diff_id size < <(make_layer "$layer")
		put_blob "$to_repo" "$digest" "$BUILD/blobs/${digest#sha256:}"
		description="berth test/e2e/node-images.sh: $(basename "$layer")"
		manifest=$(jq -c --arg d "$digest" --argjson s "$size" --arg mt "$MT_LAYER" \
			'.layers += [{mediaType: $mt, size: $s, digest: $d}]' <<<"$manifest")
		config=$(jq -c --arg d "$diff_id" --arg by "$description" \
			'.rootfs.diff_ids += [$d] | .history += [{created: "2019-01-01T00:00:00Z", created_by: $by}]' <<<"$config")
	done
	printf '%s' "$config" >"$BUILD/config.json"
	digest=sha256:$(sha256sum "$BUILD/config.json" | cut -d' ' -f1)
	put_blob "$to_repo" "$digest" "$BUILD/config.json"
	manifest=$(jq -c --arg d "$digest" --argjson s "$(stat -c %s "$BUILD/config.json")" \
		'.config.digest = $d | .config.size = $s' <<<"$manifest")
	printf '%s' "$manifest" >"$BUILD/manifest.json"
	curl -fsS -o /dev/null -X PUT -H "Content-Type: $MT_MANIFEST" --data-binary "@$BUILD/manifest.json" \
		"$REGISTRY/v2/$to_repo/manifests/$to_tag" || die "pushing $to_repo:$to_tag failed"
	log "pushed $to_repo:$to_tag (sha256:$(sha256sum "$BUILD/manifest.json" | cut -d' ' -f1))"
}

# copy_with_libs BINARY ROOT DEST: BINARY at ROOT/DEST, with the libraries it links
# (and their own), at their host paths.
copy_with_libs() {
	local binary=$1 root=$2 dest=$3 lib
	install -D -m 0755 "$binary" "$root$dest"
	for lib in $(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

# The base image's own /etc/passwd and /etc/group, to extend.
base_file() { # PATH
	local manifest digest
	manifest=$(manifest_of "$E2E/busybox" 1.29-2)
	digest=$(jq -r '.layers[0].digest' <<<"$manifest")
	blob_of "$E2E/busybox" "$digest" | tar -xzO "./${1#/}" 2>/dev/null || blob_of "$E2E/busybox" "$digest" | tar -xzO "${1#/}"
}

[ -n "$(manifest_of "$E2E/busybox" 1.29-2)" ] || die "the kit's images are not pushed: ../shared/critest-kit/images.sh"

log "busybox:1.37.0-2: the kit's busybox with nmeter"
layer=$BUILD/nmeter
mkdir -p "$layer/bin"
g++ -std=c++20 -O2 -static -o "$layer/bin/nmeter" "$REPO_DIR/test/e2e/nmeter.cc"
derive "$E2E/busybox" 1.29-2 "$E2E/busybox" 1.37.0-2 . "$layer"

log "agnhost:2.66.1: agnhost, bash, curl and porter's certificates on the kit's busybox"
layer=$BUILD/agnhost
mkdir -p "$layer/uploads" "$layer/etc" "$layer/bin"
install -m 0755 "$CACHE/bin/agnhost" "$layer/agnhost"
ln -s agnhost "$layer/agnhost-2"
install -m 0644 "$CACHE/agnhost/localhost.crt" "$layer/localhost.crt"
install -m 0644 "$CACHE/agnhost/localhost.key" "$layer/localhost.key"
copy_with_libs /bin/bash "$layer" /bin/bash
# Upstream's agnhost has alpine's busybox, nmeter included: the container-lifecycle
# specs that swap a container's image to agnhost go on stamping lines with it.
install -m 0755 "$BUILD/nmeter/bin/nmeter" "$layer/bin/nmeter"
copy_with_libs /usr/bin/curl "$layer" /usr/bin/curl
# The networking specs send UDP with `nc -u`, which busybox's nc lacks; upstream's
# image has OpenBSD's, as Debian packages it. Ahead of busybox's on PATH.
[ -x /bin/nc.openbsd ] || die "no /bin/nc.openbsd (Debian's netcat-openbsd; ./dev.sh setup installs it)"
copy_with_libs /bin/nc.openbsd "$layer" /usr/bin/nc
# curl verifies nothing the tests reach (plain http), but wants a CA bundle path.
mkdir -p "$layer/etc/ssl/certs"
{ base_file /etc/passwd; echo 'user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh'; } >"$layer/etc/passwd"
{ base_file /etc/group; echo 'user-defined-in-image:x:1000:'; echo 'group-defined-in-image:x:50000:user-defined-in-image'; } \
	>"$layer/etc/group"
mkdir -p "$layer/home/user-defined-in-image"
chown 1000:1000 "$layer/home/user-defined-in-image"
derive "$E2E/busybox" 1.29-2 "$E2E/agnhost" 2.66.1 \
	'.config.Entrypoint = ["/agnhost"] | .config.Cmd = ["pause"] |
	 .config.ExposedPorts = {"80/tcp": {}, "8080/tcp": {}, "8081/tcp": {}, "9376/tcp": {}, "5000/tcp": {}}' "$layer"

log "nonroot:1.5: the kit's busybox as user 1234"
derive "$E2E/busybox" 1.29-2 "$E2E/nonroot" 1.5 '.config.User = "1234"'

log "glibc-dns-testing:2.1.1: Debian's hostname, names from /etc/hosts first"
layer=$BUILD/glibc-dns-testing
mkdir -p "$layer/etc"
copy_with_libs /bin/hostname "$layer" /bin/hostname
printf 'hosts: files dns\n' >"$layer/etc/nsswitch.conf"
derive "$E2E/busybox" 1.29-2 "$E2E/glibc-dns-testing" 2.1.1 . "$layer"

log "nginx, nonewprivs and pause under the suite's tags"
derive "$E2E/nginx" 1.14-2 "$E2E/nginx" 1.27.0-2 .
derive "$E2E/nonewprivs" 1.3 "$E2E/nonewprivs" 1.4 .
derive pause 3.9 pause 3.10.2 .
