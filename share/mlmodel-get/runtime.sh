# mlmodel-get runtime: the shared library of every get-<weights-pkg> helper that dh-mlmodel
# generates. Installed as /usr/share/mlmodel-get/runtime.sh by the mlmodel-get package.
#
# A helper script holds only its data (the pins, URLs, training recipe and licence of one
# weights package, as shell variables and the each_file/each_data functions), then sources this
# file and calls mlmodel_get_main "$@". Keeping the code here means a fix to downloading,
# verifying or building reaches every installer package with one upload of mlmodel-get.
#
# Interface: the helper sets MLMODEL_GET_INTERFACE to the interface its data follows; this file
# provides MLMODEL_GET_RUNTIME_INTERFACE. A new interface number is introduced when the data a
# helper must provide changes; dh-mlmodel then raises the versioned Depends on mlmodel-get.
#
# This file is POSIX sh, sourced by a script running under `set -eu`; it is not executable on
# its own.

MLMODEL_GET_RUNTIME_INTERFACE=1

if [ "${MLMODEL_GET_INTERFACE:-}" != "$MLMODEL_GET_RUNTIME_INTERFACE" ]; then
	printf '%s: error: this helper needs runtime interface %s, but %s provides interface %s: upgrade the mlmodel-get package\n' \
		"${PROG:-get-helper}" "${MLMODEL_GET_INTERFACE:-(none)}" "${MLMODEL_GET_RUNTIME:-this runtime}" \
		"$MLMODEL_GET_RUNTIME_INTERFACE" >&2
	exit 1
fi

# Knobs for unusual networks and for tests: attempts per URL, first retry delay in seconds
# (doubled after each failure), seconds between training progress lines, and curl or wget.
RETRIES=${MLMODEL_RETRIES:-4}
RETRY_DELAY=${MLMODEL_RETRY_DELAY:-2}
PROGRESS_INTERVAL=${MLMODEL_PROGRESS_INTERVAL:-60}
DOWNLOADER=${MLMODEL_DOWNLOADER:-}
# dh-mlmodel (the dh-mlmodel package, which mlmodel-get depends on) writes the package's SPDX
# document and compares retrained weights with the published ones; tests name another build.
DH_MLMODEL=${MLMODEL_DH_MLMODEL:-dh-mlmodel}

# The installation acted on, by dpkg's DPKG_ROOT convention: empty in normal use; dpkg sets it
# when it runs maintainer scripts for --root DIR with --force-script-chrootless, and a caller may
# set it to act on such a root. Every location this script knows by itself (the installed
# files, the installer's state, the default cache, dpkg's database and log) is taken inside it;
# paths the caller names (--from, --output, XDG_CACHE_HOME, TMPDIR) are used as given, and the
# programs that run (curl, dpkg-deb, the training recipe's python3) are this system's.
DPKG_ROOT=${DPKG_ROOT:-}
CACHE=${XDG_CACHE_HOME:-$DPKG_ROOT${HOME:-/nonexistent}/.cache}/dh-mlmodel/sha256

# Downloads and training never run as root: a root-run helper does that work as this system
# user (created by the mlmodel-get package with systemd-sysusers; never `nobody`, which must own
# no files), in the installer's cache under /var/cache (the postinst's too; the postrm purges
# it), and only installs the result as root.
SYSTEM_USER=_mlmodel
SYSTEM_CACHE_HOME=$DPKG_ROOT/var/cache/$INSTALLER

# Progress bars for downloads when a person watches (standard error is a terminal); logs and
# maintainer scripts get one line per step.
SHOW_PROGRESS=no
if [ -t 2 ]; then
	SHOW_PROGRESS=yes
fi

say() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

die() {
	say "error: $*"
	exit 1
}

usage_error() {
	say "$*"
	say "see '$PROG --help'"
	exit 2
}

usage() {
	cat <<EOF
Usage: $PROG [MODE] [--from DIR] [--output DIR] [--install] [--no-wait] [--force]
       $PROG --train [--download-reference] [--accept-different] [OPTIONS]

Builds the package $PKG $VERSION (the model weights, installed under
$INSTALL_DIR) on this machine, then optionally installs it.

Modes:
  --download    fetch the published files, check size and SHA-256, build the .deb
  --train       retrain the weights from the pinned training data, build the .deb
  --from DIR    use files you already have in DIR (no network); with --train,
                DIR holds the training data
  --verify      check the installed files against the published pins
  --status      show what is installed, cached and built
  --install     install the built .deb with apt (needs root, unless DPKG_ROOT
                names an installation you own); after a build, or on its own
                to install a .deb built earlier
  --remove      remove the installed package (needs root, as --install)
  --help        this text

Options:
  --output DIR  where the .deb, the training log and provenance go (default: .)
  --no-wait     fail at once when another run holds the cache, instead of waiting
  --force       as root, download and train as root instead of as $SYSTEM_USER
  --download-reference
                with --train: also fetch the published files, so that retrained
                weights that differ from them bitwise are compared tensor by tensor
  --accept-different
                with --train: build (and with --install, install) weights that
                dh-mlmodel verify finds different from the published ones

After --train, retrained files that differ from the published pins are compared
with the published files tensor by tensor (dh-mlmodel verify) when these are at
hand: in --from DIR, in the download cache, or fetched with --download-reference.
The verdict (identical, equivalent, different) is printed and recorded in the
package's SPDX document and provenance.json; a different model is not built
unless --accept-different is given.

Downloads are cached in ${XDG_CACHE_HOME:-\$HOME/.cache}/dh-mlmodel/sha256/ by digest
and resumed after an interruption; one run at a time uses a cache. Run as root, the
download and training run as the system user $SYSTEM_USER with the cache in
/var/cache/$INSTALLER, and only the installation runs as root.
Proxies come from https_proxy/http_proxy/no_proxy.
DPKG_ROOT=DIR acts on the installation at DIR (dpkg --root DIR) instead of this system.
EOF
}

# --- temporary files -------------------------------------------------------------------------

WORK=
OUT_TMP=
TRAIN_PID=
PROGRESS_PID=

cleanup() {
	if [ -n "$PROGRESS_PID" ]; then
		kill "$PROGRESS_PID" 2>/dev/null || true
	fi
	if [ -n "$TRAIN_PID" ]; then
		kill -TERM "-$TRAIN_PID" 2>/dev/null || kill "$TRAIN_PID" 2>/dev/null || true
	fi
	if [ -n "$OUT_TMP" ]; then
		rm -f "$OUT_TMP"
	fi
	if [ -n "$WORK" ]; then
		rm -rf "$WORK"
	fi
}

trap cleanup EXIT
# A signal ends the script through the EXIT trap; the cached .part file stays so a rerun resumes.
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

make_work_dir() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/$PROG.XXXXXX") || die "cannot create a temporary directory"
}

# --- small helpers ---------------------------------------------------------------------------

file_size() {
	stat -c %s -- "$1"
}

file_sha256() {
	sha256sum -- "$1" | cut -d ' ' -f 1
}

is_root() {
	[ "$(id -u)" -eq 0 ]
}

# h:mm:ss
format_duration() {
	printf '%d:%02d:%02d' $(($1 / 3600)) $(($1 / 60 % 60)) $(($1 % 60))
}

json_string() {
	printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

# dpkg-query formats: dpkg-query expands them, not the shell.
# shellcheck disable=SC2016
STATUS_FORMAT='${db:Status-Status} ${Version}'
# shellcheck disable=SC2016
ORIGIN_FORMAT='${X-Mlmodel-Origin}'

# dpkg-query on the installation acted on ($DPKG_ROOT).
query_installed() {
	if [ -n "$DPKG_ROOT" ]; then
		dpkg-query --root "$DPKG_ROOT" "$@"
	else
		dpkg-query "$@"
	fi
}

# The version of PACKAGE installed in $DPKG_ROOT, or nothing.
package_version_of() {
	query_installed -W -f "$STATUS_FORMAT" "$1" 2>/dev/null | sed -n 's/^installed //p'
}

# The version of PACKAGE installed on this system, whose programs the training runs, or nothing.
# dpkg-query would otherwise follow DPKG_ROOT and DPKG_ADMINDIR from the environment.
host_package_version_of() {
	(
		unset DPKG_ROOT DPKG_ADMINDIR
		dpkg-query -W -f "$STATUS_FORMAT" "$1" 2>/dev/null | sed -n 's/^installed //p'
	)
}

# Sets VERIFY_ERROR and fails when FILE is not SIZE bytes with digest SHA256. The size is checked
# first: it is cheap and names truncation precisely.
verify_file() {
	vf_actual_size=$(file_size "$1")
	if [ "$vf_actual_size" -ne "$2" ]; then
		VERIFY_ERROR="size mismatch: $vf_actual_size bytes, the pin says $2"
		return 1
	fi
	vf_actual_sha=$(file_sha256 "$1")
	if [ "$vf_actual_sha" != "$3" ]; then
		VERIFY_ERROR="SHA-256 mismatch: expected $3, got $vf_actual_sha"
		return 1
	fi
}

# --- downloading -----------------------------------------------------------------------------

check_url_allowed() {
	case $1 in
	https://*) ;;
	http://*)
		if [ "$ALLOW_HTTP" != yes ]; then
			die "refusing plain-http URL $1: the manifest does not allow http (allow_http = false)"
		fi
		;;
	*) die "refusing URL $1: only https is supported" ;;
	esac
}

check_each_url() {
	shift 4
	for ceu_url in "$@"; do
		check_url_allowed "$ceu_url"
	done
}

check_each_data_url() {
	shift 6
	for ced_url in "$@"; do
		check_url_allowed "$ced_url"
	done
}

pick_downloader() {
	case $DOWNLOADER in
	curl | wget)
		command -v "$DOWNLOADER" >/dev/null 2>&1 || die "MLMODEL_DOWNLOADER=$DOWNLOADER is not installed"
		;;
	'')
		if command -v curl >/dev/null 2>&1; then
			DOWNLOADER=curl
		elif command -v wget >/dev/null 2>&1; then
			DOWNLOADER=wget
		else
			die "downloading needs curl or wget: apt install curl"
		fi
		;;
	*) usage_error "MLMODEL_DOWNLOADER must be curl or wget, not '$DOWNLOADER'" ;;
	esac
}

# Runs the downloader "$@": on a terminal its progress bar and messages go there; otherwise its
# messages go to $fo_err, to be quoted in FETCH_ERROR.
fetch_tool() {
	if [ "$SHOW_PROGRESS" = yes ]; then
		"$@"
	else
		"$@" 2>"$fo_err"
	fi
}

# The downloader's messages for FETCH_ERROR: on a terminal they were shown there already.
fetch_messages() {
	if [ -s "$fo_err" ]; then
		cat "$fo_err"
	else
		echo "see the message above"
	fi
}

# One transfer of URL, appending to PART from its current length (HTTP Range). Returns 0 when the
# server finished the body, 2 when a retry may help (5xx, 408, 429, connection dropped,
# timeout), 1 otherwise. FETCH_ERROR names the cause.
fetch_once() {
	fo_url=$1
	fo_part=$2
	fo_err=$WORK/fetch.err
	: >"$fo_err"
	fo_status=0
	if [ "$DOWNLOADER" = curl ]; then
		if [ "$ALLOW_HTTP" = yes ]; then
			fo_proto='=http,https'
		else
			fo_proto='=https'
		fi
		if [ "$SHOW_PROGRESS" = yes ]; then
			fo_verbosity=--progress-bar
		else
			fo_verbosity=--silent
		fi
		fo_code=$(fetch_tool curl --fail "$fo_verbosity" --show-error --location --max-redirs 10 \
			--proto "$fo_proto" --proto-redir "$fo_proto" \
			--connect-timeout 60 --speed-limit 1 --speed-time 300 \
			--continue-at - --output "$fo_part" --write-out '%{http_code}' \
			-- "$fo_url") || fo_status=$?
		case $fo_status in
		0) return 0 ;;
		22)
			FETCH_ERROR="HTTP $fo_code"
			case $fo_code in
			5?? | 408 | 429) return 2 ;;
			*) return 1 ;;
			esac
			;;
		18)
			FETCH_ERROR="truncated: the connection closed after $(file_size "$fo_part" 2>/dev/null || echo 0) bytes"
			return 2
			;;
		33)
			# The server ignores Range: start again from byte 0.
			rm -f "$fo_part"
			FETCH_ERROR="the server cannot resume (no Range support); restarting"
			return 2
			;;
		1)
			FETCH_ERROR="refused: a redirect or URL left https ($(fetch_messages))"
			return 1
			;;
		6 | 7 | 28 | 35 | 52 | 55 | 56 | 92)
			FETCH_ERROR="network error: $(fetch_messages)"
			return 2
			;;
		*)
			FETCH_ERROR="curl failed ($fo_status): $(fetch_messages)"
			return 1
			;;
		esac
	fi
	if [ "$ALLOW_HTTP" = yes ]; then
		set -- --continue
	else
		set -- --continue --https-only
	fi
	if [ "$SHOW_PROGRESS" = yes ]; then
		set -- "$@" --show-progress
	fi
	fetch_tool wget --no-verbose --tries=1 --timeout=60 --max-redirect=10 "$@" \
		--output-document="$fo_part" -- "$fo_url" || fo_status=$?
	case $fo_status in
	0) return 0 ;;
	8)
		fo_code=$(sed -n 's/.*ERROR \([0-9][0-9][0-9]\).*/\1/p' "$fo_err" | tail -n 1)
		FETCH_ERROR="HTTP ${fo_code:-error}"
		case $fo_code in
		5?? | 408 | 429) return 2 ;;
		*) return 1 ;;
		esac
		;;
	4)
		FETCH_ERROR="network error or truncated body after $(file_size "$fo_part" 2>/dev/null || echo 0) bytes: $(fetch_messages)"
		return 2
		;;
	*)
		FETCH_ERROR="wget failed ($fo_status): $(fetch_messages)"
		return 1
		;;
	esac
}

# Holds the cache's lock (flock(1) on CACHE/.lock, file descriptor 9) while this run reads and
# writes the cache, so two runs never write the same .part file: a second run waits, or with
# --no-wait stops with a message. The lock goes with the process, however it ends.
lock_cache() {
	mkdir -p "$CACHE"
	exec 9>>"$CACHE/.lock"
	if ! flock --nonblock 9; then
		if [ "$NO_WAIT" = yes ]; then
			die "another run is using the cache $CACHE (its lock $CACHE/.lock is held): try again when it has finished, or without --no-wait to wait for it"
		fi
		say "waiting for another run that is using the cache $CACHE"
		flock 9 || die "cannot lock $CACHE/.lock"
	fi
}

# Releases the lock before the long part (training, building), which needs no cache.
unlock_cache() {
	exec 9>&-
}

# Moves a verified PART to its cache name. rename(2) is atomic, so the name only ever holds
# verified bytes.
publish() {
	chmod 0644 "$1"
	mv -f -- "$1" "$CACHE/$2"
}

# Downloads the file pinned at SIZE and SHA256 into the cache, trying each URL in order with
# bounded retries. Partial bytes stay in "$CACHE/SHA256.part" so a later run resumes them.
download_pinned() {
	dp_label=$1
	dp_size=$2
	dp_sha=$3
	shift 3
	[ $# -gt 0 ] || die "$dp_label: no download URL is pinned; use --from DIR"
	pick_downloader
	dp_part=$CACHE/$dp_sha.part
	FETCH_ERROR=
	for dp_url in "$@"; do
		dp_attempt=1
		dp_delay=$RETRY_DELAY
		while :; do
			if [ -e "$dp_part" ] && [ "$(file_size "$dp_part")" -gt "$dp_size" ]; then
				rm -f "$dp_part"
			fi
			dp_status=0
			if [ ! -e "$dp_part" ] || [ "$(file_size "$dp_part")" -lt "$dp_size" ]; then
				say "$dp_label: downloading $dp_url"
				fetch_once "$dp_url" "$dp_part" || dp_status=$?
			fi
			if [ "$dp_status" -eq 0 ]; then
				if verify_file "$dp_part" "$dp_size" "$dp_sha"; then
					publish "$dp_part" "$dp_sha"
					return 0
				fi
				rm -f "$dp_part"
				FETCH_ERROR=$VERIFY_ERROR
				say "$dp_label: $dp_url: $FETCH_ERROR"
				break
			fi
			say "$dp_label: $dp_url: $FETCH_ERROR"
			if [ "$dp_status" -ne 2 ] || [ "$dp_attempt" -ge "$RETRIES" ]; then
				break
			fi
			dp_attempt=$((dp_attempt + 1))
			say "$dp_label: retrying in $dp_delay s (attempt $dp_attempt of $RETRIES)"
			sleep "$dp_delay"
			dp_delay=$((dp_delay * 2))
		done
	done
	die "$dp_label: could not be obtained: $FETCH_ERROR; nothing was installed"
}

# Copies a file the user supplied (DIR/RELPATH or DIR/BASENAME) into the cache after checking it.
import_pinned() {
	ip_label=$1
	ip_size=$2
	ip_sha=$3
	ip_rel=$4
	ip_source=
	for ip_candidate in "$FROM/$ip_rel" "$FROM/${ip_rel##*/}"; do
		if [ -f "$ip_candidate" ]; then
			ip_source=$ip_candidate
			break
		fi
	done
	[ -n "$ip_source" ] || die "$ip_label: not found in $FROM (looked for $ip_rel and ${ip_rel##*/})"
	ip_part=$CACHE/$ip_sha.part
	cp -- "$ip_source" "$ip_part"
	if ! verify_file "$ip_part" "$ip_size" "$ip_sha"; then
		rm -f "$ip_part"
		die "$ip_label: $ip_source: $VERIFY_ERROR; nothing was installed"
	fi
	publish "$ip_part" "$ip_sha"
}

# Makes "$CACHE/SHA256" hold the verified file: from the cache if it still verifies, else from
# --from DIR, else from the network. Arguments: LABEL SIZE SHA256 RELPATH URL...
obtain_pinned() {
	op_label=$1
	op_size=$2
	op_sha=$3
	op_rel=$4
	shift 4
	mkdir -p "$CACHE"
	if [ -f "$CACHE/$op_sha" ]; then
		if verify_file "$CACHE/$op_sha" "$op_size" "$op_sha"; then
			say "$op_label: using the verified cached copy"
			return 0
		fi
		say "$op_label: cached copy is damaged ($VERIFY_ERROR); fetching it again"
		rm -f "$CACHE/$op_sha"
	fi
	if [ -n "$FROM" ]; then
		import_pinned "$op_label" "$op_size" "$op_sha" "$op_rel"
	else
		download_pinned "$op_label" "$op_size" "$op_sha" "$@"
	fi
}

# --- building the package --------------------------------------------------------------------

STAGE=

# Places a verified file at its installed path inside the staging root.
stage_file() {
	sf_target=$STAGE$INSTALL_DIR/$2
	mkdir -p "${sf_target%/*}"
	cp -- "$1" "$sf_target"
}

stage_from_cache() {
	stage_file "$CACHE/$3" "$1"
}

stage_from_training() {
	stage_file "$TRAIN_OUT/$4" "$1"
}

changelog_entry() {
	printf '%s (%s) UNRELEASED; urgency=medium\n\n' "$PKG" "$VERSION"
	case $1 in
	downloaded) printf '  * Built locally by %s from the published weights.\n' "$PROG" ;;
	retrained) printf '  * Built locally by %s from weights retrained on this machine.\n' "$PROG" ;;
	esac
	printf '\n -- %s  %s\n' "$MAINTAINER" "$(LC_ALL=C date -u -R -d "@$RELEASE_EPOCH")"
}

# Installed-Size as dpkg-gencontrol computes it: KiB per file rounded up, plus one per directory.
installed_size_kib() {
	find "$STAGE" -path "$STAGE/DEBIAN" -prune -o \( -type f -printf '%s\n' \) -o \( -type d -printf '1024\n' \) |
		{
			is_total=0
			while read -r is_size; do
				is_total=$((is_total + (is_size + 1023) / 1024))
			done
			echo "$is_total"
		}
}

write_control() {
	{
		printf 'Package: %s\n' "$PKG"
		printf 'Version: %s\n' "$VERSION"
		printf 'Architecture: all\n'
		printf 'Maintainer: %s\n' "$MAINTAINER"
		printf 'Installed-Size: %s\n' "$(installed_size_kib)"
		printf 'Section: %s\n' "$SECTION"
		printf 'Priority: optional\n'
		printf 'Multi-Arch: foreign\n'
		if [ -n "$HOMEPAGE" ]; then
			printf 'Homepage: %s\n' "$HOMEPAGE"
		fi
		printf 'X-Mlmodel-Origin: %s\n' "$1"
		printf 'X-Mlmodel-Installer: %s\n' "$INSTALLER"
		printf 'Description: %s\n' "$DESCRIPTION"
	} >"$STAGE/DEBIAN/control"
}

# Builds "$OUTPUT/$DEB_NAME" from the staged files. Every input of dpkg-deb is normalised (modes,
# owners, mtimes, compressor and its threads) so the same files give the same bytes.
build_deb() {
	bd_origin=$1
	bd_doc=$STAGE/usr/share/doc/$PKG
	mkdir -p "$STAGE/DEBIAN" "$bd_doc"
	printf '%s' "$COPYRIGHT_TEXT" >"$bd_doc/copyright"
	changelog_entry "$bd_origin" | gzip -9n >"$bd_doc/changelog.Debian.gz"
	write_provenance "$bd_origin" package >"$bd_doc/provenance.json"
	write_sbom "$bd_origin"
	# The origin fields are ours by design (dpkg keeps them, dpkg-query shows them).
	mkdir -p "$STAGE/usr/share/lintian/overrides"
	printf '%s: unknown-field X-Mlmodel-%s\n' "$PKG" Installer "$PKG" Origin >"$STAGE/usr/share/lintian/overrides/$PKG"
	find "$STAGE" -type d -exec chmod 0755 {} +
	find "$STAGE" -type f -exec chmod 0644 {} +
	write_control "$bd_origin"
	(cd "$STAGE" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$STAGE/DEBIAN/md5sums"
	chmod 0644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/md5sums"
	find "$STAGE" -exec touch -h -d "@$RELEASE_EPOCH" {} +
	mkdir -p "$OUTPUT"
	OUT_TMP=$(mktemp "$OUTPUT/.$DEB_NAME.XXXXXX")
	SOURCE_DATE_EPOCH=$RELEASE_EPOCH dpkg-deb --root-owner-group -Zxz -z6 --threads-max=1 \
		--uniform-compression --build "$STAGE" "$OUT_TMP" >/dev/null
	chmod 0644 "$OUT_TMP"
	mv -f -- "$OUT_TMP" "$OUTPUT/$DEB_NAME"
	OUT_TMP=
	say "built $OUTPUT/$DEB_NAME"
}

# --- the bill of materials and the verification of retrained weights -------------------------

# Fails with advice unless dh-mlmodel (the dh-mlmodel package) runs here.
need_dh_mlmodel() {
	command -v "$DH_MLMODEL" >/dev/null 2>&1 ||
		die "$DH_MLMODEL is missing: it writes the package's SPDX document; install it with: apt install dh-mlmodel"
}

# Writes the package's SPDX 3.0.1 document at $SBOM_PATH in the staging root: dh-mlmodel sbom,
# the one generator of bills of materials, fills the model's facts ($SBOM_DATA) with the staged
# files' digests and, for retrained weights, the verification ($VERIFY_REPORT when a tensor
# comparison was made, the bitwise comparison with the pins otherwise).
write_sbom() {
	[ -n "${SBOM_DATA:-}" ] || return 0
	need_dh_mlmodel
	ws_target=$STAGE${SBOM_PATH:?}
	mkdir -p "${ws_target%/*}"
	if [ -n "$VERIFY_REPORT" ]; then
		set -- "$1" --verify-report "$VERIFY_REPORT"
	fi
	printf '%s' "$SBOM_DATA" | SOURCE_DATE_EPOCH=$RELEASE_EPOCH "$DH_MLMODEL" sbom --bom - \
		--root "$STAGE" --origin "$@" >"$ws_target" ||
		die "$DH_MLMODEL sbom could not write the SPDX document (is dh-mlmodel as new as mlmodel-get?); nothing was installed"
}

VERIFY_REPORT=
VERIFY_METHOD=
VERIFY_VERDICT=
VR_COUNT=0
VR_DIFFERING=0
VR_MISSING=

# Counts the retrained files, and those whose bytes are not the published ones.
count_differing() {
	VR_COUNT=$((VR_COUNT + 1))
	VR_ONLY=$1
	if [ "$(file_sha256 "$TRAIN_OUT/$4")" != "$3" ]; then
		VR_DIFFERING=$((VR_DIFFERING + 1))
	fi
}

# A hard link when the file system allows, else a copy.
link_or_copy() {
	mkdir -p "${2%/*}"
	ln -f -- "$1" "$2" 2>/dev/null || cp -- "$1" "$2"
}

# Puts the published file beside the retrained one under $WORK/verify, taken from the cache,
# --from DIR or, with --download-reference, the network; verified against its pin either way.
# Records in VR_MISSING the files that are not at hand.
reference_file() {
	rf_rel=$1
	rf_size=$2
	rf_sha=$3
	rf_output=$4
	shift 4
	if [ -f "$CACHE/$rf_sha" ] && verify_file "$CACHE/$rf_sha" "$rf_size" "$rf_sha"; then
		:
	elif [ -n "$FROM" ] && { [ -f "$FROM/$rf_rel" ] || [ -f "$FROM/${rf_rel##*/}" ]; }; then
		import_pinned "published $rf_rel" "$rf_size" "$rf_sha" "$rf_rel"
	elif [ "$DOWNLOAD_REFERENCE" = yes ]; then
		download_pinned "published $rf_rel" "$rf_size" "$rf_sha" "$@"
	else
		VR_MISSING="$VR_MISSING $rf_rel"
		return 0
	fi
	link_or_copy "$CACHE/$rf_sha" "$WORK/verify/published/$rf_rel"
	link_or_copy "$TRAIN_OUT/$rf_output" "$WORK/verify/retrained/$rf_rel"
}

# After training: retrained bytes equal to the pins are identical to the published weights;
# otherwise, when the published files are at hand and dh-mlmodel verify is available, they are
# compared tensor by tensor, the verdict printed and its report kept beside the .deb. A
# different model stops here unless --accept-different. Without the published files or verify,
# only the bitwise check was made, and the helper says so.
verify_retrained() {
	VERIFY_METHOD=bitwise
	each_file count_differing
	if [ "$VR_DIFFERING" -eq 0 ]; then
		VERIFY_VERDICT=identical
		say "verification: identical: the retrained bytes match the published pins"
		return 0
	fi
	VERIFY_VERDICT=not-identical
	if ! "$DH_MLMODEL" verify --help >/dev/null 2>&1; then
		say "verification: dh-mlmodel verify is not available ($DH_MLMODEL has no verify command): only the bitwise check against the pins was made, and $VR_DIFFERING of $VR_COUNT retrained file(s) differ"
		return 0
	fi
	if [ "$DOWNLOAD_REFERENCE" = yes ]; then
		pick_downloader
	fi
	lock_cache
	each_file reference_file
	unlock_cache
	if [ -n "$VR_MISSING" ]; then
		say "verification: the published file(s)$VR_MISSING are not at hand: only the bitwise check against the pins was made, and $VR_DIFFERING of $VR_COUNT retrained file(s) differ; rerun with --download-reference, or with --from DIR holding the published files, to compare them tensor by tensor"
		return 0
	fi
	if [ "$VR_COUNT" -eq 1 ]; then
		set -- "$WORK/verify/published/$VR_ONLY" "$WORK/verify/retrained/$VR_ONLY"
	else
		set -- "$WORK/verify/published" "$WORK/verify/retrained"
	fi
	vr_report=$OUTPUT_ABS/${DEB_NAME%.deb}.verify.json
	vr_status=0
	"$DH_MLMODEL" verify --json "$@" >"$vr_report" 2>"$WORK/verify.err" || vr_status=$?
	if [ "$vr_status" -gt 1 ]; then
		say "verification: dh-mlmodel verify could not compare the files (exit status $vr_status: $(cat "$WORK/verify.err")): only the bitwise check against the pins was made"
		rm -f "$vr_report"
		return 0
	fi
	vr_summary=$(printf '%s' "$SBOM_DATA" | "$DH_MLMODEL" sbom --bom - --verify-report "$vr_report" --verification-only) ||
		die "the report of dh-mlmodel verify, $vr_report, cannot be read; nothing was installed"
	VERIFY_METHOD=tensors
	VERIFY_VERDICT=$(printf '%s\n' "$vr_summary" | sed -n 1p)
	VERIFY_REPORT=$vr_report
	say "verification: $VERIFY_VERDICT: $(printf '%s\n' "$vr_summary" | sed -n 2p); report: $vr_report"
	if [ "$VERIFY_VERDICT" = different ] && [ "$ACCEPT_DIFFERENT" != yes ]; then
		die "the retrained weights are different from the published ones (see $vr_report); nothing was built or installed: pass --accept-different to build and install them anyway"
	fi
}

# --- provenance ------------------------------------------------------------------------------

PROV_SEP=

prov_file() {
	pf_source=$CACHE/$3
	if [ -n "${TRAIN_OUT:-}" ]; then
		pf_source=$TRAIN_OUT/$4
	fi
	pf_sha=$(file_sha256 "$pf_source")
	pf_match=false
	if [ "$pf_sha" = "$3" ]; then
		pf_match=true
	fi
	printf '%s\n    {"path": %s, "size": %s, "sha256": %s, "published_sha256": %s, "matches_pin": %s' \
		"$PROV_SEP" "$(json_string "$INSTALL_DIR/$1")" "$(file_size "$pf_source")" \
		"$(json_string "$pf_sha")" "$(json_string "$3")" "$pf_match"
	shift 4
	printf ', "urls": ['
	pf_sep=
	for pf_url in "$@"; do
		printf '%s%s' "$pf_sep" "$(json_string "$pf_url")"
		pf_sep=', '
	done
	printf ']}'
	PROV_SEP=,
}

prov_data() {
	printf '%s\n      {"name": %s, "path": %s, "size": %s, "sha256": %s' "$PROV_SEP" \
		"$(json_string "$1")" "$(json_string "$2")" "$3" "$(json_string "$4")"
	if [ -n "$5" ]; then
		printf ', "package": %s, "package_path": %s' "$(json_string "$5")" "$(json_string "$6")"
	fi
	printf '}'
	PROV_SEP=,
}

prov_tools() {
	pt_sep=
	# Versions come from dpkg's database: importing a module to ask would run code and take time.
	for pt_pkg in python3 python3-numpy python3-torch $TRAIN_DEPENDS; do
		case " $pt_seen " in
		*" $pt_pkg "*) continue ;;
		esac
		pt_seen="$pt_seen $pt_pkg"
		pt_version=$(host_package_version_of "$pt_pkg")
		if [ -n "$pt_version" ]; then
			printf '%s\n        %s: %s' "$pt_sep" "$(json_string "$pt_pkg")" "$(json_string "$pt_version")"
			pt_sep=,
		fi
	done
}

# provenance.json. The copy inside the package ("package") holds only facts that the inputs
# determine, so rebuilding from the same inputs gives the same .deb; the copy beside the .deb
# ("run") adds the duration and the log of this run.
write_provenance() {
	printf '{\n  "package": %s,\n  "version": %s,\n  "origin": %s,\n  "helper": %s,\n' \
		"$(json_string "$PKG")" "$(json_string "$VERSION")" "$(json_string "$1")" "$(json_string "$PROG")"
	printf '  "files": ['
	PROV_SEP=
	each_file prov_file
	printf '\n  ]'
	if [ "$1" = retrained ]; then
		printf ',\n  "training": {\n    "command": %s,\n    "seed": %s,\n    "deterministic": %s,\n' \
			"$(json_string "$TRAIN_COMMAND")" "$TRAIN_SEED" "$TRAIN_DETERMINISTIC"
		printf '    "estimated_cpu_seconds": %s,\n' "$TRAIN_ESTIMATE_SECONDS"
		printf '    "environment": {"SOURCE_DATE_EPOCH": "%s", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "CUBLAS_WORKSPACE_CONFIG": ":4096:8", "MLMODEL_SEED": "%s"},\n' \
			"$RELEASE_EPOCH" "$TRAIN_SEED"
		printf '    "data": ['
		PROV_SEP=
		each_data prov_data
		printf '\n    ],\n    "tools": {'
		pt_seen=
		prov_tools
		printf '\n    }'
		printf ',\n    "verification": {"method": %s, "verdict": %s' \
			"$(json_string "$VERIFY_METHOD")" "$(json_string "$VERIFY_VERDICT")"
		if [ "$2" = run ] && [ -n "$VERIFY_REPORT" ]; then
			printf ', "report": %s' "$(json_string "${VERIFY_REPORT##*/}")"
		fi
		printf '}'
		if [ "$2" = run ]; then
			# The log's name: it lies beside this file, wherever the results are copied or moved
			# (a root run copies them from the system user's work directory).
			printf ',\n    "duration_seconds": %s,\n    "log": %s' "$TRAIN_DURATION" "$(json_string "${TRAIN_LOG##*/}")"
		fi
		printf '\n  }'
	fi
	printf '\n}\n'
}

# --- modes -----------------------------------------------------------------------------------

obtain_weight() {
	ow_rel=$1
	ow_size=$2
	ow_sha=$3
	shift 4
	obtain_pinned "$ow_rel" "$ow_size" "$ow_sha" "$ow_rel" "$@"
}

run_download() {
	if [ -z "$FROM" ]; then
		each_file check_each_url
	fi
	make_work_dir
	lock_cache
	each_file obtain_weight
	STAGE=$WORK/root
	each_file stage_from_cache
	unlock_cache
	build_deb downloaded
}

missing_depends() {
	for md_pkg in $TRAIN_DEPENDS; do
		if [ -z "$(host_package_version_of "$md_pkg")" ]; then
			printf ' %s' "$md_pkg"
		fi
	done
}

# Puts one training input at DATA/PATH: from the cache, --from DIR or the network, or from the
# Debian package that ships it; verified either way.
obtain_data() {
	od_name=$1
	od_path=$2
	od_size=$3
	od_sha=$4
	od_package=$5
	od_package_path=$6
	shift 6
	od_target=$MLMODEL_DATA/$od_path
	mkdir -p "${od_target%/*}"
	if [ -n "$od_package" ] && [ -z "$FROM" ]; then
		od_file=$DPKG_ROOT$od_package_path
		[ -f "$od_file" ] || die "training data $od_name: $od_file is missing; apt install $od_package"
		verify_file "$od_file" "$od_size" "$od_sha" ||
			die "training data $od_name: $od_file: $VERIFY_ERROR"
		cp -- "$od_file" "$od_target"
		return 0
	fi
	obtain_pinned "training data $od_name" "$od_size" "$od_sha" "$od_path" "$@"
	cp -- "$CACHE/$od_sha" "$od_target"
}

start_progress() {
	(
		while sleep "$PROGRESS_INTERVAL"; do
			sp_elapsed=$(($(date +%s) - TRAIN_START))
			if [ "$TRAIN_ESTIMATE_SECONDS" -gt 0 ]; then
				say "training: $(format_duration "$sp_elapsed") elapsed, estimate $(format_duration "$TRAIN_ESTIMATE_SECONDS") CPU time ($((sp_elapsed * 100 / TRAIN_ESTIMATE_SECONDS))%)"
			else
				say "training: $(format_duration "$sp_elapsed") elapsed"
			fi
		done
	) &
	PROGRESS_PID=$!
}

check_training_output() {
	cto_file=$TRAIN_OUT/$4
	[ -f "$cto_file" ] || die "training did not produce $4 (see $TRAIN_LOG); nothing was installed"
	if verify_file "$cto_file" "$2" "$3"; then
		say "$1: retrained bytes match the published pin"
	else
		say "$1: retrained bytes differ from the published pin ($VERIFY_ERROR); recorded in provenance.json"
	fi
}

run_train() {
	[ "$HAS_TRAINING" = yes ] || die "$PKG has no training recipe; use --download or --from DIR"
	tr_missing=$(missing_depends)
	[ -z "$tr_missing" ] || die "training needs these packages:$tr_missing; install them with: apt install$tr_missing"
	if [ -z "$FROM" ]; then
		each_data check_each_data_url
	fi
	if [ "$DOWNLOAD_REFERENCE" = yes ]; then
		each_file check_each_url
	fi
	make_work_dir
	if [ -n "$TRAIN_PROGRAM_DIR" ]; then
		cp -R "$DPKG_ROOT$TRAIN_PROGRAM_DIR/." "$WORK/" ||
			die "cannot copy the training program from $DPKG_ROOT$TRAIN_PROGRAM_DIR"
	fi
	MLMODEL_DATA=$WORK/data
	TRAIN_OUT=$WORK/out
	MLMODEL_OUT=$TRAIN_OUT
	mkdir -p "$MLMODEL_DATA" "$MLMODEL_OUT"
	lock_cache
	each_data obtain_data
	unlock_cache
	mkdir -p "$OUTPUT"
	OUTPUT_ABS=$(cd "$OUTPUT" && pwd)
	TRAIN_LOG=$OUTPUT_ABS/${DEB_NAME%.deb}.train.log
	export MLMODEL_DATA MLMODEL_OUT
	export SOURCE_DATE_EPOCH="$RELEASE_EPOCH" PYTHONHASHSEED=0 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
	export OPENBLAS_NUM_THREADS=1 CUBLAS_WORKSPACE_CONFIG=:4096:8 MLMODEL_SEED="$TRAIN_SEED"
	say "training $PKG (estimate: $(format_duration "$TRAIN_ESTIMATE_SECONDS") CPU time); log: $TRAIN_LOG"
	TRAIN_START=$(date +%s)
	# setsid gives the recipe its own process group, so an interruption stops all of it.
	(cd "$WORK" && exec setsid sh -c "$TRAIN_COMMAND") >"$TRAIN_LOG" 2>&1 &
	TRAIN_PID=$!
	start_progress
	tr_status=0
	wait "$TRAIN_PID" || tr_status=$?
	TRAIN_PID=
	kill "$PROGRESS_PID" 2>/dev/null || true
	PROGRESS_PID=
	TRAIN_DURATION=$(($(date +%s) - TRAIN_START))
	if [ "$tr_status" -ne 0 ]; then
		tail -n 20 "$TRAIN_LOG" >&2 || true
		die "training failed with exit status $tr_status after $(format_duration "$TRAIN_DURATION") (log: $TRAIN_LOG); nothing was installed"
	fi
	say "training finished in $(format_duration "$TRAIN_DURATION")"
	each_file check_training_output
	verify_retrained
	STAGE=$WORK/root
	each_file stage_from_training
	build_deb retrained
	write_provenance retrained run >"$OUTPUT/${DEB_NAME%.deb}.provenance.json"
}

verify_installed() {
	vi_path=$DPKG_ROOT$INSTALL_DIR/$1
	if [ ! -f "$vi_path" ]; then
		say "MISSING  $vi_path"
		VERIFY_FAILED=yes
	elif verify_file "$vi_path" "$2" "$3"; then
		say "OK       $vi_path"
	else
		say "MISMATCH $vi_path: $VERIFY_ERROR"
		VERIFY_FAILED=yes
	fi
}

run_verify() {
	VERIFY_FAILED=no
	each_file verify_installed
	rv_origin=$(query_installed -W -f "$ORIGIN_FORMAT" "$PKG" 2>/dev/null || true)
	if [ "$VERIFY_FAILED" = yes ]; then
		if [ "$rv_origin" = retrained ]; then
			say "the installed weights were retrained locally; see $DPKG_ROOT/usr/share/doc/$PKG/provenance.json"
		fi
		die "the installed files do not match the published pins"
	fi
	say "all files match the published pins"
}

status_file() {
	if [ -f "$CACHE/$3" ]; then
		echo "  $1: cached ($CACHE/$3)"
	elif [ -f "$CACHE/$3.part" ]; then
		echo "  $1: partly downloaded ($(file_size "$CACHE/$3.part") of $2 bytes)"
	else
		echo "  $1: not cached"
	fi
}

run_status() {
	rs_version=$(package_version_of "$PKG")
	if [ -n "$rs_version" ]; then
		echo "$PKG $rs_version is installed (origin: $(query_installed -W -f "$ORIGIN_FORMAT" "$PKG" 2>/dev/null || echo unknown))"
	else
		echo "$PKG is not installed"
	fi
	echo "files:"
	each_file status_file
	if [ -f "$OUTPUT/$DEB_NAME" ]; then
		echo "built package: $OUTPUT/$DEB_NAME"
	fi
	if [ -f "$DPKG_ROOT/var/lib/$INSTALLER/failed" ]; then
		echo "the last automatic download failed; see $DPKG_ROOT/var/lib/$INSTALLER/failed"
	fi
}

# Runs dpkg "$@" on the installation at $DPKG_ROOT: its database (--root) and its log, not this
# system's. A root the user owns needs no privileges (--force-not-root). Without chroot(2), a
# package's maintainer scripts would act on this system; the weights package has none, and a
# caller who wants them run chrootless says so in DPKG_FORCE, as dpkg does for its own scripts.
dpkg_in_root() {
	mkdir -p "$DPKG_ROOT/var/log"
	if is_root; then
		dpkg --root "$DPKG_ROOT" --log "$DPKG_ROOT/var/log/dpkg.log" "$@"
	else
		dpkg --root "$DPKG_ROOT" --log "$DPKG_ROOT/var/log/dpkg.log" --force-not-root "$@"
	fi
}

run_install() {
	ri_dir=$(cd "$OUTPUT" 2>/dev/null && pwd) || die "--output $OUTPUT: no such directory"
	ri_deb=$ri_dir/$DEB_NAME
	[ -f "$ri_deb" ] || die "no $DEB_NAME in $OUTPUT; build it first with --download, --train or --from DIR"
	if [ -n "$DPKG_ROOT" ]; then
		dpkg_in_root -i "$ri_deb"
		return
	fi
	is_root || die "installing needs root: run 'sudo $PROG --install --output $OUTPUT', or 'sudo apt install $ri_deb'"
	if command -v apt-get >/dev/null 2>&1; then
		# Wait for another package manager (e.g. unattended-upgrades) instead of failing at once.
		apt-get install -y -o DPkg::Lock::Timeout=300 "$ri_deb"
	else
		dpkg -i "$ri_deb"
	fi
}

run_remove() {
	if [ -n "$DPKG_ROOT" ]; then
		dpkg_in_root -r "$PKG"
		return
	fi
	is_root || die "removing needs root: run 'sudo $PROG --remove', or 'sudo apt remove $PKG'"
	dpkg -r "$PKG"
}

# --- root: the work as the system user ------------------------------------------------------

# "UID GID" of the system user in the installation acted on: this system's user database
# (getent: NSS) in normal use, DPKG_ROOT's /etc/passwd when acting on another installation.
system_user_ids() {
	if [ -n "$DPKG_ROOT" ]; then
		sed -n "s/^$SYSTEM_USER:[^:]*:\([0-9]*\):\([0-9]*\):.*/\1 \2/p" "$DPKG_ROOT/etc/passwd" 2>/dev/null || true
	else
		getent passwd "$SYSTEM_USER" | cut -d : -f 3,4 | tr : ' '
	fi
}

# As root, runs this same helper for MODE as the system user, with the installer's cache
# (/var/cache/INSTALLER, which its postinst uses too and its postrm purges) and a fresh work
# directory it owns, then copies what it built into OUTPUT. setpriv (util-linux) drops the
# user, group and supplementary groups for good; the environment (proxies, MLMODEL_*) is kept.
run_as_system_user() {
	ru_ids=$(system_user_ids)
	[ -n "$ru_ids" ] || die "refusing to download or train as root, and the system user $SYSTEM_USER is missing from ${DPKG_ROOT:-this system}/etc/passwd: reinstall mlmodel-get (its postinst creates the user), run as a normal user, or pass --force to work as root"
	ru_uid=${ru_ids% *}
	ru_gid=${ru_ids#* }
	case $0 in
	/*) ru_self=$0 ;;
	*) ru_self=$(pwd)/$0 ;;
	esac
	if [ -n "$FROM" ]; then
		FROM=$(cd "$FROM" && pwd)
		set -- --from "$FROM"
	else
		set --
	fi
	if [ "$NO_WAIT" = yes ]; then
		set -- "$@" --no-wait
	fi
	if [ "$DOWNLOAD_REFERENCE" = yes ]; then
		set -- "$@" --download-reference
	fi
	if [ "$ACCEPT_DIFFERENT" = yes ]; then
		set -- "$@" --accept-different
	fi
	mkdir -p "$CACHE"
	chown "$ru_uid:$ru_gid" "${CACHE%/sha256}" "$CACHE"
	# The work directory is in the installer's cache too, which the user can reach whatever
	# root's TMPDIR is; this run just created it, so nothing in it can point elsewhere.
	WORK=$(mktemp -d "$SYSTEM_CACHE_HOME/work.XXXXXX") || die "cannot create a work directory in $SYSTEM_CACHE_HOME"
	mkdir -p "$WORK/out"
	chown -R "$ru_uid:$ru_gid" "$WORK"
	say "working as the system user $SYSTEM_USER (uid $ru_uid); cache: $CACHE"
	ru_status=0
	(
		cd "$WORK"
		HOME=$WORK TMPDIR=$WORK XDG_CACHE_HOME=$SYSTEM_CACHE_HOME
		export HOME TMPDIR XDG_CACHE_HOME MLMODEL_GET_RUNTIME
		exec setpriv --reuid="$ru_uid" --regid="$ru_gid" --clear-groups -- \
			sh "$ru_self" "--$MODE" --output "$WORK/out" "$@"
	) || ru_status=$?
	[ "$ru_status" -eq 0 ] || exit "$ru_status"
	mkdir -p "$OUTPUT"
	for ru_file in "$WORK/out"/*; do
		[ -f "$ru_file" ] || continue
		OUT_TMP=$(mktemp "$OUTPUT/.${ru_file##*/}.XXXXXX")
		cp -- "$ru_file" "$OUT_TMP"
		chmod 0644 "$OUT_TMP"
		mv -f -- "$OUT_TMP" "$OUTPUT/${ru_file##*/}"
		OUT_TMP=
	done
	say "copied the results to $OUTPUT"
}

# --- command line ----------------------------------------------------------------------------

# The helper's entry point: the script that sources this file calls it with its arguments.
mlmodel_get_main() {
	MODE=
	FROM=
	OUTPUT=.
	FORCE=no
	INSTALL=no
	NO_WAIT=no
	DOWNLOAD_REFERENCE=no
	ACCEPT_DIFFERENT=no

	while [ $# -gt 0 ]; do
		case $1 in
		--download) set_mode download ;;
		--train) set_mode train ;;
		--verify) set_mode verify ;;
		--status) set_mode status ;;
		--remove) set_mode remove ;;
		--install) INSTALL=yes ;;
		--force) FORCE=yes ;;
		--no-wait) NO_WAIT=yes ;;
		--download-reference) DOWNLOAD_REFERENCE=yes ;;
		--accept-different) ACCEPT_DIFFERENT=yes ;;
		--from | --output)
			[ $# -ge 2 ] || usage_error "$1 needs a directory"
			if [ "$1" = --from ]; then FROM=$2; else OUTPUT=$2; fi
			shift
			;;
		--from=*) FROM=${1#--from=} ;;
		--output=*) OUTPUT=${1#--output=} ;;
		-h | --help)
			usage
			exit 0
			;;
		*) usage_error "unknown argument: $1" ;;
		esac
		shift
	done

	if [ -n "$FROM" ]; then
		[ -d "$FROM" ] || usage_error "--from $FROM: not a directory"
		case $MODE in
		'' | download | train) ;;
		*) usage_error "--from goes with --download or --train" ;;
		esac
	fi

	if [ "$DOWNLOAD_REFERENCE" = yes ] || [ "$ACCEPT_DIFFERENT" = yes ]; then
		[ "$MODE" = train ] || usage_error "--download-reference and --accept-different go with --train"
	fi

	if [ -z "$MODE" ]; then
		if [ "$INSTALL" = yes ] && [ -z "$FROM" ]; then
			MODE=none
		elif [ -n "$FROM" ] || [ "$HAS_DOWNLOAD" = yes ]; then
			MODE=download
		elif [ "$HAS_TRAINING" = yes ]; then
			MODE=train
		else
			die "no download URL is pinned for every file; use --from DIR"
		fi
	fi

	# Root's downloads are the system user's, in the installer's cache: --status shows those.
	if is_root && [ "$FORCE" != yes ]; then
		CACHE=$SYSTEM_CACHE_HOME/dh-mlmodel/sha256
	fi

	case $MODE in
	download | train)
		if is_root && [ "$FORCE" != yes ]; then
			run_as_system_user
		elif [ "$MODE" = download ]; then
			run_download
		else
			run_train
		fi
		;;
	verify) run_verify ;;
	status) run_status ;;
	remove) run_remove ;;
	none) ;;
	esac

	if [ "$INSTALL" = yes ]; then
		run_install
	fi
}

set_mode() {
	[ -z "$MODE" ] || [ "$MODE" = "$1" ] || usage_error "choose one of --download, --train, --verify, --status, --remove"
	MODE=$1
}
