{{/* Labels of one service's objects. Call with (dict "root" $ "id" $id "component" $comp). */}}
{{- define "pingvas.labels" -}}
app.kubernetes.io/name: {{ .id }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: pingvas
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* Selector labels of one service: (dict "root" $ "id" $id). */}}
{{- define "pingvas.selector" -}}
app.kubernetes.io/name: {{ .id }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The pools of files/models.json, sorted and unique, as a JSON list: one ai-worker Deployment each. */}}
{{- define "pingvas.catalogPools" -}}
{{- $catalog := required "helm/pingvas/files/models.json is missing" (.Files.Get "files/models.json") | fromJson }}
{{- $pools := list }}
{{- range $catalog.models }}
{{- $pools = append $pools (required "every model of files/models.json needs a pool" .pool) }}
{{- end }}
{{- if not $pools }}
{{- fail "files/models.json lists no model pools: no ai-worker Deployment to run" }}
{{- end }}
{{- $pools | uniq | sortAlpha | toJson }}
{{- end -}}
