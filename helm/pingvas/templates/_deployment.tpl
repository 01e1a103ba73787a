{{- /* One Deployment: (dict "root" $ "id" <service id> "name" <Deployment name> "svc" <its values>
"labels" <labels> "selector" <selector labels>). services.yaml calls it once per service and, for
ai-worker, once per pool of workerPools. A variable of svc.env replaces the ConfigMap's. */ -}}
{{- define "pingvas.deployment" -}}
{{- $root := .root }}{{- $id := .id }}{{- $name := .name }}{{- $svc := .svc }}
{{- $labels := .labels }}{{- $selector := .selector }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  replicas: {{ $svc.replicas }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- $selector | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels:
        {{- $labels | nindent 8 }}
      annotations:
        checksum/config: {{ toJson $root.Values.config | sha256sum }}
        {{- if $svc.mountModelCatalog }}
        checksum/model-catalog: {{ printf "%s%s" ($root.Files.Get "files/models.json") ($root.Files.Get "files/styles.json") | sha256sum }}
        {{- end }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $svc.port | quote }}
        prometheus.io/path: /metrics
    spec:
      serviceAccountName: {{ $id }}
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: {{ $svc.terminationGracePeriodSeconds | default $root.Values.terminationGracePeriodSeconds }}
      securityContext:
        runAsNonRoot: true
        runAsUser: {{ $root.Values.podSecurity.uid }}
        runAsGroup: {{ $root.Values.podSecurity.uid }}
        fsGroup: {{ $root.Values.podSecurity.uid }}
        seccompProfile: {type: RuntimeDefault}
      {{- with $svc.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.minGpuMemoryMiB }}
      {{- $min := . }}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              {{- range $root.Values.gpuScheduling.gpuMemoryLabels }}
              - matchExpressions:
                  - {key: {{ . }}, operator: Gt, values: [{{ $min | quote }}]}
              {{- end }}
      {{- end }}
      containers:
        - name: {{ $id }}
          image: "{{ $root.Values.image.repository }}/{{ $id }}:{{ $root.Values.image.tag }}{{ if $svc.gpu }}{{ $root.Values.image.gpuTagSuffix }}{{ end }}"
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          ports:
            - {name: http, containerPort: {{ $svc.port }}, protocol: TCP}
            - {name: metrics, containerPort: {{ $root.Values.metricsPort }}, protocol: TCP}
          env:
            - name: PINGVAS_PORT
              value: {{ $svc.port | quote }}
            {{- $config := concat $root.Values.commonEnv.config ($svc.config | default list) }}
            {{- if $svc.database }}
            {{- $config = concat $config $root.Values.databaseEnv.config }}
            {{- end }}
            {{- range $config }}
            {{- if not (hasKey ($svc.env | default dict) .) }}
            - name: {{ . }}
              valueFrom:
                configMapKeyRef: {name: pingvas-config, key: {{ . }}}
            {{- end }}
            {{- end }}
            {{- range $name, $value := $svc.env }}
            - name: {{ $name }}
              value: {{ $value | toString | quote }}
            {{- end }}
            {{- range $name, $field := $svc.fieldEnv }}
            - name: {{ $name }}
              valueFrom:
                fieldRef: {fieldPath: {{ $field }}}
            {{- end }}
            {{- $secrets := merge (dict) ($svc.secrets | default dict) $root.Values.commonEnv.secrets }}
            {{- if $svc.database }}
            {{- $_ := set $secrets "PINGVAS_DATABASE_URL" (printf "%s-database-url" $id) }}
            {{- end }}
            {{- range $name, $key := $secrets }}
            - name: {{ $name }}
              valueFrom:
                secretKeyRef: {name: {{ $root.Values.secretName }}, key: {{ $key }}}
            {{- end }}
          resources:
            requests:
              cpu: {{ $svc.resources.cpu | quote }}
              memory: {{ $svc.resources.memory }}
              {{- with $svc.resources.gpu }}
              nvidia.com/gpu: {{ . }}
              {{- end }}
            limits:
              cpu: {{ $svc.resources.cpu | quote }}
              memory: {{ $svc.resources.memory }}
              {{- with $svc.resources.gpu }}
              nvidia.com/gpu: {{ . }}
              {{- end }}
          {{- $startup := merge (dict) ($svc.startupProbe | default dict) $root.Values.probes.startup }}
          startupProbe:
            httpGet: {path: {{ $startup.path }}, port: http}
            periodSeconds: {{ $startup.periodSeconds }}
            failureThreshold: {{ $startup.failureThreshold }}
            timeoutSeconds: {{ $startup.timeoutSeconds }}
          {{- with $root.Values.probes.liveness }}
          livenessProbe:
            httpGet: {path: {{ .path }}, port: http}
            periodSeconds: {{ .periodSeconds }}
            timeoutSeconds: {{ .timeoutSeconds }}
            failureThreshold: {{ .failureThreshold }}
          {{- end }}
          {{- with $root.Values.probes.readiness }}
          readinessProbe:
            httpGet: {path: {{ .path }}, port: http}
            periodSeconds: {{ .periodSeconds }}
            timeoutSeconds: {{ .timeoutSeconds }}
            failureThreshold: {{ .failureThreshold }}
          {{- end }}
          lifecycle:
            preStop:
              exec:
                command: ["/bin/sleep", "{{ $root.Values.preStopSleepSeconds }}"]
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            runAsUser: {{ $root.Values.podSecurity.uid }}
            runAsGroup: {{ $root.Values.podSecurity.uid }}
            capabilities: {drop: [ALL]}
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
            {{- if $svc.mountModelCatalog }}
            - {name: model-catalog, mountPath: {{ dir $root.Values.config.PINGVAS_MODEL_CATALOG }}, readOnly: true}
            {{- end }}
            {{- if and $svc.mountImages $root.Values.images.enabled }}
            - {name: images, mountPath: {{ $root.Values.config.PINGVAS_STORAGE_DIR }}}
            {{- end }}
            {{- if $svc.mountModels }}
            - {name: models, mountPath: {{ $root.Values.config.PINGVAS_MODELS_DIR }}, readOnly: true}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir: {sizeLimit: {{ $svc.tmpSize | default "1Gi" }}}
        {{- if $svc.mountModelCatalog }}
        - name: model-catalog
          configMap:
            name: {{ $root.Values.modelCatalog.configMapName }}
            items:
              - {key: models.json, path: {{ base $root.Values.config.PINGVAS_MODEL_CATALOG }}}
        {{- end }}
        {{- if and $svc.mountImages $root.Values.images.enabled }}
        - name: images
          persistentVolumeClaim: {claimName: {{ $root.Values.images.claimName }}}
        {{- end }}
        {{- if $svc.mountModels }}
        - name: models
          persistentVolumeClaim: {claimName: {{ $root.Values.models.claimName }}, readOnly: true}
        {{- end }}
{{- end }}
