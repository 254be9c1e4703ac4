// The content store: blobs (manifests, configs, layers) by digest under
// DIR/blobs/sha256/<hex>. A blob is written to DIR/ingest first, verified, fsynced and
// renamed into place, so a blob that exists is whole and correct. Concurrent
// requests for one blob share a single download.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "base/single_flight.h"
#include "base/status.h"

namespace berth::image {

class ContentStore {
 public:
  // Writes chunks of the blob being ingested; Reset() starts over (a retry).
  class Writer {
   public:
    virtual ~Writer() = default;
    virtual Status Write(const char* data, size_t size) = 0;
    virtual void Reset() = 0;
  };
  using FillFn = std::function<Status(Writer& writer)>;

  // Opens the store; leftovers of interrupted downloads are removed.
  static StatusOr<std::unique_ptr<ContentStore>> Open(const std::string& dir);

  std::string BlobPath(absl::string_view digest) const;
  bool Has(absl::string_view digest) const;
  StatusOr<std::string> Read(absl::string_view digest, size_t max_bytes) const;

  // Makes sure the blob is present: if not, fill writes it, and it is kept only if
  // its size and digest match. Callers asking for a blob that is being ingested
  // wait for that one ingest and share its result.
  Status Ingest(absl::string_view digest, int64_t size, const FillFn& fill);
  // Stores bytes already in memory (manifests, configs) after checking them.
  Status Put(absl::string_view digest, absl::string_view data);

  Status Delete(absl::string_view digest);

 private:
  explicit ContentStore(std::string dir) : dir_(std::move(dir)) {}
  Status IngestNow(const std::string& digest, int64_t size, const FillFn& fill);

  const std::string dir_;
  // Blobs being written: a second Ingest of one digest waits for the first.
  SingleFlight<Status> ingests_;
};

}  // namespace berth::image
