"""quantwatch for Prometheus Operator users: the Kubernetes tree rendered from the same sources, and its checks.

``deploy.generate`` renders deploy/kubernetes/ (PrometheusRule, AlertmanagerConfig, PodMonitor, the
boards as ConfigMaps, the bot's Deployment, values for kube-prometheus-stack) from alerts/spec.yaml,
the boards' JSON and deploy/settings.yaml; ``deploy.check`` validates it with the operator's Go types,
kubeconform, promtool and amtool; ``deploy.schemas`` refreshes the JSON schemas kubeconform reads.
"""
