#!/usr/bin/env bash
# Builds the browser client, serves the demo, or runs every test.
#
#   ./build.sh          build dist/: ssm.wasm (+ .gz, .br), wasm_exec.js, ssm.js,
#                       the demo page and the xterm.js files it loads
#   ./build.sh serve    build, then run the local emulator with the demo page on
#                       http://127.0.0.1:${PORT:-8080}/ until Ctrl-C
#   ./build.sh test     install what is missing, build, and run all tests
#   ./build.sh bench    build, then benchmark ssm.wasm in headless Chromium and
#                       write BENCHMARKS.md (bench/main.go lists the flags)
#
# Environment: PORT (serve), SERVE_FOR (serve: stop after this duration, such
# as 10m, instead of at Ctrl-C), SSM_BUILD_TAGS (extra Go build tags for
# ssm.wasm, for example ssm_nosdk to leave out the AWS SDK KMS client).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(pwd)
DIST=$ROOT/dist
BIN=$ROOT/.bin
WWW=$ROOT/www

log() { printf '==> %s\n' "$*" >&2; }

apt_install() {
	log "installing Debian packages: $*"
	if [[ -z ${APT_UPDATED:-} ]]; then
		apt-get update -qq
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

ensure_brotli() {
	command -v brotli >/dev/null || apt_install brotli
}

ensure_chromium() {
	[[ -x /usr/bin/chromium ]] || apt_install chromium
}

# ensure_node_modules runs npm ci when node_modules is missing or older than
# the lock file.
ensure_node_modules() {
	local stamp=$WWW/node_modules/.package-lock.json
	if [[ ! -f $stamp || $WWW/package-lock.json -nt $stamp ]]; then
		log "npm ci in www/"
		(cd "$WWW" && npm ci --no-audit --no-fund --loglevel=error)
	fi
}

build_wasm() {
	# nethttpomithttp2 leaves out net/http's HTTP/2 code, which the fetch
	# transport of js/wasm never uses: about 0.13 MB of brotli.
	local tags=nethttpomithttp2${SSM_BUILD_TAGS:+,$SSM_BUILD_TAGS}
	log "building dist/ssm.wasm${tags:+ (tags: $tags)}"
	GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" ${tags:+-tags "$tags"} \
		-o "$DIST/ssm.wasm.new" ./wasm
	# go build rewrites its output every time; keep the old file and its
	# time when nothing changed, so the compressed files stay valid.
	if cmp -s "$DIST/ssm.wasm.new" "$DIST/ssm.wasm"; then
		rm "$DIST/ssm.wasm.new"
	else
		mv "$DIST/ssm.wasm.new" "$DIST/ssm.wasm"
	fi
	# Compressing takes longer than an unchanged build: skip it when the
	# compressed files are newer than ssm.wasm.
	if [[ ! $DIST/ssm.wasm.br -nt $DIST/ssm.wasm || ! $DIST/ssm.wasm.gz -nt $DIST/ssm.wasm ]]; then
		gzip -9 -k -f -n "$DIST/ssm.wasm"
		brotli -f -q 11 -o "$DIST/ssm.wasm.br" "$DIST/ssm.wasm"
		touch "$DIST/ssm.wasm.gz" "$DIST/ssm.wasm.br" # both copy the input's time
	fi
}

copy_web_files() {
	cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$DIST/wasm_exec.js"
	cp "$WWW"/ssm.js "$WWW"/ssm.d.ts "$WWW"/index.html "$WWW"/demo.js \
		"$WWW"/demo.css "$DIST/"
	# www/ is the npm package; these two make it complete for npm pack.
	cp "$DIST/ssm.wasm" "$DIST/wasm_exec.js" "$WWW/"
	mkdir -p "$DIST/xterm"
	cp "$WWW"/node_modules/@xterm/xterm/lib/xterm.mjs \
		"$WWW"/node_modules/@xterm/xterm/css/xterm.css \
		"$WWW"/node_modules/@xterm/addon-fit/lib/addon-fit.mjs "$DIST/xterm/"
}

build_dist() {
	ensure_brotli
	ensure_node_modules
	mkdir -p "$DIST"
	build_wasm
	copy_web_files
	log "dist/ is ready: $(du -h "$DIST/ssm.wasm" | cut -f1) ssm.wasm," \
		"$(du -h "$DIST/ssm.wasm.br" | cut -f1) brotli"
}

build_emulator() {
	mkdir -p "$BIN"
	go build -o "$BIN/ssm-emulator" ./cmd/ssm-emulator
}

# start_emulator starts the emulator in the background with the given
# arguments, sets EMULATOR_PID and EMULATOR_URL from its ready line.
start_emulator() {
	local out=$BIN/emulator.out
	: >"$out"
	if [[ -n ${EMULATOR_LOG:-} ]]; then
		"$BIN/ssm-emulator" "$@" >"$out" 2>"$EMULATOR_LOG" &
	else
		# Inherit stderr rather than reopening /dev/stderr, which would
		# truncate a log file that stderr is redirected to.
		"$BIN/ssm-emulator" "$@" >"$out" &
	fi
	EMULATOR_PID=$!
	EMULATOR_URL=
	for _ in $(seq 1 100); do
		EMULATOR_URL=$(sed -n 's/^ssm-emulator listening on \(http:[^ ]*\).*/\1/p' "$out")
		[[ -n $EMULATOR_URL ]] && return 0
		kill -0 "$EMULATOR_PID" 2>/dev/null || break
		sleep 0.1
	done
	log "the emulator did not report its address; its output:"
	cat "$out" >&2
	return 1
}

stop_emulator() {
	if [[ -n ${EMULATOR_PID:-} ]]; then
		kill "$EMULATOR_PID" 2>/dev/null || true
		wait "$EMULATOR_PID" 2>/dev/null || true
		EMULATOR_PID=
	fi
}

serve() {
	build_dist
	build_emulator
	trap stop_emulator EXIT
	trap 'exit 130' INT TERM
	start_emulator -listen "127.0.0.1:${PORT:-8080}" -www "$DIST" \
		-exit-after "${SERVE_FOR:-0}"
	log "demo page: $EMULATOR_URL/ (Ctrl-C stops the emulator)"
	wait "$EMULATOR_PID"
}

# ensure_test_tools installs wasmbrowsertest as go_js_wasm_exec and a
# chromium wrapper that adds the flags headless Chromium needs here.
ensure_test_tools() {
	ensure_chromium
	mkdir -p "$BIN"
	if [[ ! -x $BIN/go_js_wasm_exec || $ROOT/tools/go.mod -nt $BIN/go_js_wasm_exec ]]; then
		log "building wasmbrowsertest from tools/"
		(cd "$ROOT/tools" && go build -o "$BIN/go_js_wasm_exec" \
			github.com/agnivade/wasmbrowsertest)
	fi
	cat >"$BIN/chromium" <<-'EOF'
		#!/bin/sh
		exec /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic \
			--no-first-run --disable-background-networking \
			--disable-component-update --disable-sync "$@"
	EOF
	chmod +x "$BIN/chromium"
}

PASSED=0
FAILED=0
SKIPPED=0

# run_step runs one check, counts go test results from its -v output, and
# counts the step itself as one failure when it fails without a failed test.
run_step() {
	local name=$1
	shift
	local out=$BIN/step.log
	log "$name"
	set +e
	"$@" 2>&1 | tee "$out"
	local rc=${PIPESTATUS[0]}
	set -e
	local pass fail skip
	pass=$(grep -c -- '--- PASS' "$out" || true)
	fail=$(grep -c -- '--- FAIL' "$out" || true)
	skip=$(grep -c -- '--- SKIP' "$out" || true)
	if ((pass + fail + skip == 0 && rc == 0)); then
		pass=1
	fi
	if ((rc != 0 && fail == 0)); then
		fail=1
	fi
	PASSED=$((PASSED + pass))
	FAILED=$((FAILED + fail))
	SKIPPED=$((SKIPPED + skip))
	if ((rc != 0)); then
		log "FAILED: $name"
	fi
	STEP_RC=$rc
}

# wasm_env runs a command with a small explicit environment, because
# wasmbrowsertest copies the environment into the page and fails above
# about 8 KiB of arguments and environment.
wasm_env() {
	env -i PATH="$BIN:$PATH" HOME="${HOME:-/root}" \
		GOCACHE="$(go env GOCACHE)" GOPATH="$(go env GOPATH)" \
		GOMODCACHE="$(go env GOMODCACHE)" GOFLAGS="$(go env GOFLAGS)" \
		GOPROXY="$(go env GOPROXY)" GOTOOLCHAIN=local \
		SSM_EMULATOR_URL="$EMULATOR_URL" "$@"
}

run_tests() {
	ensure_test_tools
	build_dist
	build_emulator
	trap stop_emulator EXIT

	local native
	native=$(go list ./... | grep -v '/e2e$')
	run_step "go vet (native)" go vet ./...
	run_step "go vet (js/wasm)" env GOOS=js GOARCH=wasm go vet . ./jsbridge/... ./wasm/...
	# shellcheck disable=SC2086
	run_step "go test (native)" go test -v -count=1 $native
	run_step "typings: tsc --noEmit" npm --prefix "$WWW" run --silent typecheck

	EMULATOR_LOG=$BIN/emulator.log start_emulator -listen 127.0.0.1:0 \
		-exit-after 20m -www "$DIST" -log-level warn
	log "emulator for the wasm tests: $EMULATOR_URL (log: .bin/emulator.log)"
	run_step "go test (js/wasm in headless Chromium)" wasm_env \
		GOOS=js GOARCH=wasm go test -v -count=1 -timeout 15m . ./jsbridge/...
	if ((STEP_RC != 0)); then
		log "last lines of the emulator's log:"
		tail -n 40 "$BIN/emulator.log" >&2
	fi
	run_step "go test (js/wasm without the AWS SDK)" wasm_env \
		GOOS=js GOARCH=wasm go test -v -count=1 -tags ssm_nosdk -run NoSDK ./jsbridge/
	stop_emulator

	run_step "go test (end to end, demo page)" env PATH="$BIN:$PATH" \
		go test -v -count=1 -timeout 5m ./e2e/

	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	((FAILED == 0))
}

case ${1:-build} in
build) build_dist ;;
serve) serve ;;
test) run_tests ;;
bench)
	shift
	ensure_chromium
	build_dist
	build_emulator
	exec go run ./bench -emulator "$BIN/ssm-emulator" -dist "$DIST" "$@"
	;;
*)
	echo "usage: $0 [build|serve|test|bench [-quick]]" >&2
	exit 2
	;;
esac
