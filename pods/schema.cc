#include "pods/schema.h"

namespace berth::pods {

const Schema& RecordSchema() {
  static const Schema* schema = new Schema{"pods", {
      // 1: a record is the JSON of a SandboxRecord or ContainerRecord; the columns
      // are what lookups and uniqueness need.
      R"sql(
      CREATE TABLE pods (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,   -- name_namespace_uid_attempt, as kubelet reserves it
        created_at  INTEGER NOT NULL,       -- unix nanoseconds
        state       INTEGER NOT NULL,
        record      BLOB NOT NULL
      );
      CREATE TABLE containers (
        id          TEXT PRIMARY KEY,
        pod_id      TEXT NOT NULL REFERENCES pods(id),
        name        TEXT NOT NULL UNIQUE,
        created_at  INTEGER NOT NULL,
        state       INTEGER NOT NULL,
        record      BLOB NOT NULL
      );
      CREATE INDEX containers_by_pod ON containers(pod_id);
      )sql",
      // 2: a pod's namespace is stored under its field's name, as every other field
      // is (it was "namespace").
      R"sql(
      UPDATE pods SET record = CAST(json_remove(
          json_set(CAST(record AS TEXT), '$.spec.namespace_name', json_extract(CAST(record AS TEXT), '$.spec.namespace')),
          '$.spec.namespace') AS BLOB)
        WHERE json_type(CAST(record AS TEXT), '$.spec.namespace') IS NOT NULL;
      )sql",
  }};
  return *schema;
}

}  // namespace berth::pods
