/// The fixed files the targets read beside the fuzzed one.
enum FuzzFixtures {
    /// The seed's catalog (`corpora/k8s-real/catalog.yaml`, comments left out): four actions, one of them
    /// requiring approval.
    static let catalogYAML = """
        version: 1
        actions:
          - name: restart_pods
            template: restart-pods-tpl
            blast_radius: pods
            requires_approval: false
            params: [namespace, selector]
            runbook: https://runbooks.internal/restart-pods
            timeout: 5m
          - name: scale_up
            template: scale-deployment-tpl
            blast_radius: deployment
            requires_approval: false
            params: [namespace, deployment, replicas]
            constraints:
              max_replicas: 30
            runbook: https://runbooks.internal/scale-up
            timeout: 10m
          - name: rollback_release
            template: rollback-release-tpl
            blast_radius: deployment
            requires_approval: true
            params: [namespace, release]
            runbook: https://runbooks.internal/rollback
            timeout: 15m
          - name: clear_redis_keys
            template: clear-redis-keys-tpl
            blast_radius: cache
            requires_approval: false
            params: [cluster, pattern]
            constraints:
              pattern_prefix_required: true
            runbook: https://runbooks.internal/clear-redis
            timeout: 5m

        """
}
