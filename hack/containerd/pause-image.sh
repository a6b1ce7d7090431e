#!/usr/bin/env bash
# pause-image.sh builds the pod sandbox ("pause") image without a registry or a container builder:
# it compiles pause.c statically and packs it by hand into an OCI image layout (oci-layout,
# index.json, a manifest, a config and one gzipped layer, each blob named by its sha256), then tars
# the layout so that `ctr images import` can load it.
#
# Usage: hack/containerd/pause-image.sh IMAGE_NAME OUT.tar
#
# The layer and archive are reproducible (fixed owner, mode and mtime, gzip without a timestamp), so
# the same pause.c and compiler give the same image digest.
set -euo pipefail

name="${1:?usage: $0 IMAGE_NAME OUT.tar}"
out="${2:?usage: $0 IMAGE_NAME OUT.tar}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# blob stores stdin as a content-addressed blob and prints "digest size".
blob() {
	local tmp="$work/blob.tmp" digest
	cat >"$tmp"
	digest="$(sha256sum "$tmp" | awk '{print $1}')"
	mv "$tmp" "$work/layout/blobs/sha256/$digest"
	echo "$digest $(stat -c %s "$work/layout/blobs/sha256/$digest")"
}

mkdir -p "$work/rootfs" "$work/layout/blobs/sha256"
gcc -static -O2 -s -Wall -Wextra -Werror -o "$work/rootfs/pause" "$here/pause.c"
chmod 0755 "$work/rootfs/pause"

tar_flags=(--sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=posix
	"--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime")
tar "${tar_flags[@]}" -C "$work/rootfs" -cf "$work/layer.tar" pause
# The config names the layer by the digest of its uncompressed tar (the diff ID).
diff_id="$(sha256sum "$work/layer.tar" | awk '{print $1}')"
read -r layer_digest layer_size < <(gzip -n -9 <"$work/layer.tar" | blob)

# User 65535 is what the upstream pause image runs as: the sandbox needs no privilege at all.
read -r config_digest config_size < <(printf '%s' '{"architecture":"amd64","os":"linux","config":{"User":"65535:65535","Entrypoint":["/pause"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:'"$diff_id"'"]},"history":[{"created_by":"hack/containerd/pause-image.sh"}]}' | blob)

read -r manifest_digest manifest_size < <(printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$config_digest"'","size":'"$config_size"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'"$layer_digest"'","size":'"$layer_size"'}]}' | blob)

# containerd's importer takes the full name from io.containerd.image.name; the OCI ref.name annotation
# holds just the tag, as the OCI image layout specification says.
printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$work/layout/oci-layout"
printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$manifest_digest"'","size":'"$manifest_size"',"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"'"$name"'","org.opencontainers.image.ref.name":"'"${name##*:}"'"}}]}' >"$work/layout/index.json"

tar "${tar_flags[@]}" -C "$work/layout" -cf "$out" oci-layout index.json blobs
echo "pause-image: $name sha256:$manifest_digest -> $out"
