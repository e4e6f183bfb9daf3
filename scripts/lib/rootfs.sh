# shellcheck shell=bash
# Shell functions shared by the scripts that build images from a Debian root file system instead of pulling a
# base image (scripts/renovate-image.sh, scripts/runner-image.sh): image registries can be out of reach where
# Debian's package archive is not.
#
# Source it; the sourcing script defines log and die. Needs root for debootstrap.

# The Debian archive URI of the host's own apt sources, so the build uses the same mirror (or proxy) as apt
# on this machine. Prints nothing when the host is not Debian or has no such source; debootstrap then uses
# its built-in default.
host_debian_mirror() {
  local os_id="" codename=""
  if [[ -r /etc/os-release ]]; then
    # shellcheck disable=SC1091 # a system file, read in a subshell
    os_id=$(. /etc/os-release && printf '%s' "${ID:-}")
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
  fi
  [[ "$os_id" == debian && -n "$codename" ]] || return 0

  local -a deb822=() one_line=()
  shopt -s nullglob
  deb822=(/etc/apt/sources.list.d/*.sources)
  one_line=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
  shopt -u nullglob
  local -a existing_one_line=()
  local file
  for file in "${one_line[@]}"; do
    if [[ -f "$file" ]]; then
      existing_one_line+=("$file")
    fi
  done

  local mirror=""
  if ((${#deb822[@]})); then
    # deb822 stanzas: the first enabled "deb" stanza whose Suites hold the host's release codename.
    mirror=$(awk -v codename="$codename" '
      function flush() {
        if (!found && enabled != "no" && (" " types " ") ~ / deb / && (" " suites " ") ~ (" " codename " ") && uri != "") {
          print uri; found = 1
        }
        types = ""; suites = ""; uri = ""; enabled = ""
      }
      FNR == 1 && NR > 1 { flush() }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]*#/ { next }
      tolower($1) == "types:" { $1 = ""; types = $0 }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      tolower($1) == "enabled:" { enabled = tolower($2) }
      END { flush() }
    ' "${deb822[@]}")
  fi
  if [[ -z "$mirror" ]] && ((${#existing_one_line[@]})); then
    # One-line format: "deb [options] URI suite components...".
    mirror=$(awk -v codename="$codename" '
      $1 == "deb" { sub(/\[[^]]*\]/, ""); if ($3 == codename) { print $2; exit } }
    ' "${existing_one_line[@]}")
  fi
  printf '%s' "$mirror"
}

# Unmounts whatever an interrupted debootstrap left mounted below $1 (it mounts /proc and /sys inside the
# target), then removes $1 without ever crossing into another file system.
remove_work_dir() {
  local dir=$1 mount_point
  [[ -d "$dir" ]] || return 0
  while read -r mount_point; do
    umount --lazy "$mount_point" || log "could not unmount ${mount_point}"
  done < <(awk -v prefix="${dir}/" 'index($2, prefix) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

# Removes the build directories (<parent>/<name>.build.*) that interrupted builds left behind. Call it only
# while holding that build's lock, when no other build of the same name can be running.
remove_leftover_work_dirs() {
  local parent=$1 name=$2 stale
  for stale in "${parent}/${name}".build.*; do
    [[ -d "$stale" ]] || continue
    log "removing leftover build directory ${stale}"
    remove_work_dir "$stale"
  done
}

# A minimal Debian (debootstrap --variant=minbase) of suite $2 in $1, with the comma-separated packages $3,
# from the host's mirror.
bootstrap_rootfs() {
  local rootfs=$1 suite=$2 packages=$3 mirror
  mirror=$(host_debian_mirror)
  log "debootstrap ${suite} with ${packages} (mirror: ${mirror:-debootstrap default})"
  local -a args=(--variant=minbase "--include=${packages}" --components=main "$suite" "$rootfs")
  if [[ -n "$mirror" ]]; then
    args+=("$mirror")
  fi
  # debootstrap logs every package; keep its output for a failure only.
  if ! debootstrap "${args[@]}" >"${rootfs}.debootstrap.log" 2>&1; then
    tail -n 40 "${rootfs}.debootstrap.log" >&2
    if [[ -f "${rootfs}/debootstrap/debootstrap.log" ]]; then
      tail -n 40 "${rootfs}/debootstrap/debootstrap.log" >&2
    fi
    die "debootstrap failed (see above)"
  fi
}

# Documentation, package lists, caches and logs are of no use in a container.
slim_rootfs() {
  local rootfs=$1
  find "${rootfs}/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "${rootfs}/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "${rootfs}"/usr/share/{man,info,lintian,locale}/* \
    "${rootfs}"/var/cache/apt/* "${rootfs}"/var/lib/apt/lists/* \
    "${rootfs}"/var/cache/debconf/*-old "${rootfs}"/var/lib/dpkg/*-old \
    "${rootfs}/debootstrap"
  find "${rootfs}/var/log" -type f -delete
  # debootstrap copies the host's resolver and name into the target; Docker provides both at run time.
  : >"${rootfs}/etc/resolv.conf"
  : >"${rootfs}/etc/hostname"
}

# Imports the rootfs $1 as image $2; further arguments are `docker import --change` instructions.
import_rootfs() {
  local rootfs=$1 ref=$2
  shift 2
  local -a changes=()
  local change
  for change in "$@"; do
    changes+=(--change "$change")
  done
  log "importing the rootfs ($(du -sh --one-file-system "$rootfs" | cut -f1)) into Docker as ${ref}"
  # --numeric-owner: the image must carry its own uids, whatever they are called on this host.
  tar --numeric-owner -C "$rootfs" -c . | docker import "${changes[@]}" - "$ref" >/dev/null
}

# Removes the tagged images of repository $1 except the references given after it, so a long-lived machine
# keeps only the images of the current recipe. An image still in use by a container stays.
remove_stale_images() {
  local repository=$1 ref keep
  shift
  while read -r ref; do
    for keep in "$@"; do
      [[ "$ref" == "$keep" ]] && continue 2
    done
    log "removing stale image ${ref}"
    docker image rm "$ref" >/dev/null 2>&1 || log "kept ${ref}: it is still in use"
  done < <(docker image ls "$repository" --format '{{.Repository}}:{{.Tag}}' | grep -v ':<none>$' || true)
}
