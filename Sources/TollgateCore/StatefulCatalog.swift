/// Resource types whose destruction loses data or secrets: databases, buckets, volumes, file
/// systems, caches, queues, keys, secrets, DNS zones, persistent volume claims, and generated
/// secrets that a replace would regenerate. Kept in one reviewable list.
public enum StatefulCatalog {
    public static let types: Set<String> = [
        // AWS
        "aws_db_instance", "aws_rds_cluster", "aws_rds_cluster_instance", "aws_dynamodb_table", "aws_s3_bucket",
        "aws_ebs_volume", "aws_efs_file_system", "aws_fsx_lustre_file_system", "aws_fsx_windows_file_system",
        "aws_elasticache_cluster", "aws_elasticache_replication_group", "aws_sqs_queue", "aws_kinesis_stream",
        "aws_kms_key", "aws_secretsmanager_secret", "aws_route53_zone", "aws_redshift_cluster", "aws_opensearch_domain",
        "aws_elasticsearch_domain", "aws_docdb_cluster", "aws_neptune_cluster", "aws_msk_cluster", "aws_backup_vault",
        // Google Cloud
        "google_sql_database_instance", "google_sql_database", "google_storage_bucket", "google_compute_disk",
        "google_filestore_instance", "google_redis_instance", "google_pubsub_topic", "google_pubsub_subscription",
        "google_kms_crypto_key", "google_kms_key_ring", "google_secret_manager_secret", "google_dns_managed_zone",
        "google_bigquery_dataset", "google_bigquery_table", "google_spanner_instance", "google_spanner_database",
        "google_bigtable_instance",
        // Azure
        "azurerm_mssql_database", "azurerm_mssql_server", "azurerm_postgresql_flexible_server", "azurerm_mysql_flexible_server",
        "azurerm_cosmosdb_account", "azurerm_storage_account", "azurerm_storage_container", "azurerm_managed_disk",
        "azurerm_redis_cache", "azurerm_servicebus_queue", "azurerm_servicebus_namespace", "azurerm_key_vault",
        "azurerm_key_vault_key", "azurerm_key_vault_secret", "azurerm_dns_zone", "azurerm_netapp_volume",
        // Kubernetes
        "kubernetes_persistent_volume_claim", "kubernetes_persistent_volume_claim_v1", "kubernetes_persistent_volume",
        "kubernetes_persistent_volume_v1", "kubernetes_secret", "kubernetes_secret_v1",
        // Generated secrets: a replace regenerates them.
        "random_password", "random_string", "tls_private_key",
    ]

    /// The resource type of an address such as `module.db.aws_db_instance.main[0]`
    /// (nil for data sources and unparseable addresses).
    public static func type(ofAddress address: String) -> String? {
        var parts: [Substring] = []
        var current = Substring()
        var depth = 0
        for character in address {
            if character == "[" { depth += 1 }
            if character == "]" { depth -= 1 }
            if character == "." && depth == 0 {
                parts.append(current)
                current = Substring()
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        // Drop module.NAME[...] pairs.
        while parts.count >= 2, parts[0] == "module" { parts.removeFirst(2) }
        guard parts.count == 2, parts[0] != "data" else { return nil }
        return String(parts[0])
    }

    /// Whether the resource at an address is of a stateful type (listed here or in `extra`).
    public static func isStateful(_ address: String, extra: Set<String> = []) -> Bool {
        type(ofAddress: address).map { types.contains($0) || extra.contains($0) } ?? false
    }

    /// The stateful addresses among those a plan deletes or replaces.
    public static func statefulDestroyed(_ summary: PlanSummary, extra: Set<String> = []) -> [String] {
        summary.destructive.filter { isStateful($0, extra: extra) }
    }
}
