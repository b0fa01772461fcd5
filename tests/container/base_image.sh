#!/usr/bin/env bash
# Makes the debian:12 and debian:12-slim base images for `make image` where no registry is
# reachable: a Debian 12 root file system from `debootstrap --variant=minbase bookworm`, fetched
# from the Debian mirror apt already uses (MIRROR overrides it), imported into podman. The slim tag
# drops documentation, man pages and locales as Debian's own slim images do. Does nothing when
# both tags exist.
set -euo pipefail
ENGINE=${ENGINE:-podman}
if $ENGINE image exists debian:12 && $ENGINE image exists debian:12-slim; then
  echo "base images: debian:12 and debian:12-slim present"
  exit 0
fi
if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' 2>/dev/null |
    awk '$2 == "bookworm" { print $1; exit }')
fi
MIRROR=${MIRROR:-http://deb.debian.org/debian/}
work=$(mktemp -d "${TMPDIR:-/tmp}/mgw-base-XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "base images: debootstrap --variant=minbase bookworm from $MIRROR"
start=$(date +%s)
debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log"; exit 1; }
rootfs="$work/rootfs"
# Only the mirror and the suite; apt's lists and caches are not part of an image.
echo "deb $MIRROR bookworm main" >"$rootfs/etc/apt/sources.list"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
tar -C "$rootfs" --numeric-owner -c . | $ENGINE import --quiet --change 'CMD ["bash"]' - debian:12 >/dev/null
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
SLIM
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/groff/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/lintian/* "$rootfs"/usr/share/linda/*
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
tar -C "$rootfs" --numeric-owner -c . | $ENGINE import --quiet --change 'CMD ["bash"]' - debian:12-slim >/dev/null
echo "base images: debian:12 and debian:12-slim imported in $(($(date +%s) - start)) s"
$ENGINE images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep 'debian:12'
