{{/* The chart name, truncated to 63 characters (a label value). */}}
{{- define "zonewarden.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name: release + chart, truncated to 63 (a DNS label); the release name alone when it already contains the chart name. */}}
{{- define "zonewarden.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* name-version for the helm.sh/chart label. */}}
{{- define "zonewarden.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels every object carries. */}}
{{- define "zonewarden.labels" -}}
helm.sh/chart: {{ include "zonewarden.chart" . }}
{{ include "zonewarden.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: controller
app.kubernetes.io/part-of: zonewarden
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels: immutable, so only name and instance. */}}
{{- define "zonewarden.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zonewarden.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount's name. */}}
{{- define "zonewarden.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "zonewarden.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Lease's name (--lease-name and the Role's resourceNames). */}}
{{- define "zonewarden.leaseName" -}}
{{- default (include "zonewarden.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* The image reference. */}}
{{- define "zonewarden.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The rules of the controller's (Cluster)Role: the custom resources, their status and
finalizers, events, and Secrets by name only. */}}
{{- define "zonewarden.rules" -}}
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
# the cleanup finalizer on a Provider a Delete-policy MailDomain still needs
- apiGroups: [zonewarden.dev]
  resources: [providers]
  verbs: [patch]
- apiGroups: [zonewarden.dev]
  resources: [providers/finalizers]
  verbs: [update]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- with .Values.rbac.secretNames }}
- apiGroups: [""]
  resources: [secrets]
  resourceNames:
    {{- toYaml . | nindent 4 }}
  verbs: [get]
{{- end }}
{{- end }}
