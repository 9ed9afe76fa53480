# Mirror: copy the history while the source keeps serving, switch consumers (at their exact
# translated offsets), then producers; ferry drains the tail and verifies every partition.

migration "orders-mirror" {
  scheme = "mirror"
}

variable "target_password" {
  description = "SASL password of the target cluster user"
  sensitive   = true
  default     = ""
}

cluster "source" {
  bootstrap_servers = [env("FERRY_SOURCE_BOOTSTRAP", "127.0.0.1:19092")]
  # cluster_id = "kR4x..."   # pin: refuse to run against any other cluster
}

cluster "target" {
  bootstrap_servers = [env("FERRY_TARGET_BOOTSTRAP", "127.0.0.1:19093")]
  properties        = {
    "client.id" = "ferry-orders-mirror"
  }
}

topics {
  include            = ["^orders\\.", "^payments$"]
  exclude            = ["^__", "^_schemas$"]
  replication_factor = 1
}

topic "orders.audit" {
  config = { "cleanup.policy" = "compact" }
}

consumer_groups {
  include = ["^billing-", "^shipping$"]
}

replication {
  # earliest | latest | committed | an RFC 3339 timestamp
  start_from = "committed"
}

hook "stop_source_consumers" {
  command = ["./deploy/switch.sh", "consumers", "stop", "source"]
  timeout = "10m"
}
hook "start_target_consumers" {
  command = ["./deploy/switch.sh", "consumers", "start", "target"]
  timeout = "10m"
}

hook "stop_source_producers" {
  command = ["./deploy/switch.sh", "producers", "stop", "source"]
  env     = { DEPLOY_ENV = "production" }
  timeout = "10m"
}
hook "start_target_producers" {
  command = ["./deploy/switch.sh", "producers", "start", "target"]
  env     = { DEPLOY_ENV = "production" }
  timeout = "10m"
}
