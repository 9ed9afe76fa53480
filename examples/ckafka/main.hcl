# A mirror migration to a CKafka target. Topic metadata goes through the CKafka cloud API
# (here the local emulator that scripts/ckafka-quickstart.sh starts); records and group offsets
# go over the Kafka protocol. Credentials come from TENCENTCLOUD_SECRET_ID and
# TENCENTCLOUD_SECRET_KEY and are never printed or stored.

migration "orders-to-ckafka" {
  scheme = "mirror"
}

cluster "source" {
  bootstrap_servers = [env("FERRY_SOURCE_BOOTSTRAP", "127.0.0.1:19092")]
}

cluster "target" {
  bootstrap_servers = [env("FERRY_TARGET_BOOTSTRAP", "127.0.0.1:19093")]
  ckafka {
    instance_id = env("FERRY_CKAFKA_INSTANCE_ID", "ckafka-emulator")
    region      = "ap-guangzhou"
    # Leave endpoint out against the real CKafka (ckafka.tencentcloudapi.com).
    endpoint = env("FERRY_CKAFKA_ENDPOINT", "http://127.0.0.1:18080")
  }
}

topics {
  include            = ["^orders\\.", "^payments$"]
  exclude            = ["^__", "^_schemas$"]
  replication_factor = 3
}

# 30 s is below CKafka's minimum retention (60 s): the plan shows the adjustment to 60000,
# and this topic accepts it. Without accept_adjustments the topic would be blocked.
topic "payments" {
  config             = { "retention.ms" = 30000 }
  accept_adjustments = true
}

consumer_groups {
  include = ["^billing-", "^shipping$"]
}

replication {
  start_from = "earliest"
}

hook "stop_source_consumers" {
  command = ["echo", "stopping consumers on the source"]
}
hook "start_target_consumers" {
  command = ["echo", "starting consumers on the CKafka target"]
}

hook "stop_source_producers" {
  command = ["echo", "stopping producers on the source"]
}
hook "start_target_producers" {
  command = ["echo", "starting producers on the CKafka target"]
}
