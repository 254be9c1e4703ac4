#include "image/schema.h"

namespace berth::image {

const Schema& ImageSchema() {
  static const Schema* schema = new Schema{"images", {
      // 1: images by config digest, and the names that point at them.
      R"sql(
      CREATE TABLE images (
        id          TEXT PRIMARY KEY,       -- config digest
        record      BLOB NOT NULL
      );
      CREATE TABLE image_names (
        name        TEXT PRIMARY KEY,       -- repo:tag or repo@digest
        image_id    TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
      );
      )sql",
      // 2: content and layer snapshots. An image holds references to the blobs and
      // layers it is made of; a container holds the layers under its rootfs. What
      // nothing references is garbage.
      R"sql(
      CREATE TABLE layers (
        chain_id    TEXT PRIMARY KEY,
        snapshot_id INTEGER NOT NULL UNIQUE,  -- directory name under images/snapshots
        diff_id     TEXT NOT NULL,
        size        INTEGER NOT NULL          -- bytes of files unpacked
      );
      CREATE TABLE image_refs (
        image_id    TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        kind        TEXT NOT NULL,            -- 'blob' or 'layer'
        ref         TEXT NOT NULL,            -- a digest or a chain ID
        PRIMARY KEY (image_id, kind, ref)
      );
      CREATE INDEX image_refs_by_ref ON image_refs(kind, ref);
      CREATE TABLE container_layers (
        container_id TEXT NOT NULL,
        chain_id     TEXT NOT NULL,
        PRIMARY KEY (container_id, chain_id)
      );
      )sql",
  }};
  return *schema;
}

}  // namespace berth::image
