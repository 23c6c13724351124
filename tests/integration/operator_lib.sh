# operator_lib.sh - sourced by operator.test and operator_cf.test (after lib.sh and
# world.sh): a Knot world and a real kube-apiserver + etcd (tests/tools/kube) on free
# loopback ports, the CRDs, a namespace `mail`, and the RBAC the chart grants the
# controller, bound to the non-admin user of controller.kubeconfig (group dns-controllers);
# plus the polling helpers. Everything started is stopped by PID at exit.
#
#   op_setup WORLD NAME    start both; cd into $T (the test's scratch directory)
#   start_api / stop_api   (re)start or stop the API server on the same ports and data
#   K ...                  kubectl as the admin
#   PIDS                   controller PIDs killed at exit

check() {
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name"; fi
}
# wait_for SECONDS COMMAND...: poll every 0.2 s until COMMAND succeeds
wait_for() {
	n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}
# wait_eval SECONDS 'CODE': the same for shell code evaluated afresh on every try
wait_eval() {
	n=$(($1 * 5))
	while [ "$n" -gt 0 ]; do
		eval "$2" >/dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}
K() { "$KBIN/kubectl" "$@"; }
jp() { K -n mail get maildomain "$1" -o "jsonpath=$2" 2>/dev/null; }
cond() { jp "$1" "{.status.conditions[?(@.type==\"$2\")].$3}"; }
start_api() { WITH_KCM=0 bash "$REPO/tests/tools/kube/start-apiserver.sh" >"$T/start.out" 2>&1; }
stop_api() { bash "$REPO/tests/tools/kube/stop-apiserver.sh" >/dev/null 2>&1; }
PIDS=""
op_cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	stop_api
	world_stop
}

op_setup() {
	ZW=${ZW_BIN:-$(pwd)/zonewarden}
	case $ZW in /*) ;; *) ZW=$(pwd)/$ZW ;; esac
	[ -x "$ZW" ] || { echo "FAIL: build $ZW first (make)"; echo "integration: 0 passed, 1 failed"; exit 1; }
	REPO=$(pwd)
	KBIN=${KUBEBUILDER_ASSETS:-$(bash tests/tools/kube/build-apiserver.sh 2>/dev/null | tail -n 1)}
	[ -x "$KBIN/kube-apiserver" ] || skip_or_fail "no kube-apiserver (tests/tools/kube/build-apiserver.sh)"
	world_start "$1" || skip_or_fail "cannot start the Knot world: $WORLD_ERROR"
	export ZONEWARDEN_ROOT_HINTS="$WORLD_HINTS"
	T=$WORLD_RUN/$2
	mkdir -p "$T"
	KRUN=$T/kapi
	KPORT=$(free_port)
	ETCD_PORT=$(etcd_port "$KPORT")
	export KRUN KPORT ETCD_PORT KBIN
	trap op_cleanup EXIT
	start_api || { cat "$T/start.out"; tail -n 5 "$KRUN/logs/kube-apiserver.log" "$KRUN/logs/etcd.log"; skip_or_fail "the kube-apiserver did not start"; }
	export KUBECONFIG=$KRUN/admin.kubeconfig
	cd "$T" || exit 1
	op_rbac
}

op_rbac() {
	# The CRDs, a namespace, and the controller user's RBAC (what the chart grants).
	K apply -f "$REPO/manifests/crds/" >/dev/null
	check "the CRDs are established" K wait --for condition=established --timeout=60s \
		crd/maildomains.zonewarden.dev crd/providers.zonewarden.dev
	K create namespace mail >/dev/null
	cat >rbac.yaml <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: zonewarden}
rules:
  - apiGroups: [zonewarden.dev]
    resources: [maildomains, providers]
    verbs: [get, list, watch]
  - apiGroups: [zonewarden.dev]
    resources: [maildomains]
    verbs: [update, patch]
  - apiGroups: [zonewarden.dev]
    resources: [maildomains/status]
    verbs: [get, update, patch]
  - apiGroups: [zonewarden.dev]
    resources: [maildomains/finalizers]
    verbs: [update]
  - apiGroups: [zonewarden.dev]
    resources: [providers]
    verbs: [patch]
  - apiGroups: [zonewarden.dev]
    resources: [providers/finalizers]
    verbs: [update]
  - apiGroups: [events.k8s.io, ""]
    resources: [events]
    verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: zonewarden}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: zonewarden}
subjects: [{kind: Group, name: dns-controllers, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: zonewarden-lease, namespace: mail}
rules:
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [create]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    resourceNames: [zonewarden]
    verbs: [get, update, patch]
  - apiGroups: [""]
    resources: [secrets]
    resourceNames: [cf-token]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: zonewarden-lease, namespace: mail}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: zonewarden-lease}
subjects: [{kind: Group, name: dns-controllers, apiGroup: rbac.authorization.k8s.io}]
EOF
	K apply -f rbac.yaml >/dev/null
}
