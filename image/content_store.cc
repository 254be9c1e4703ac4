#include "image/content_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/cleanup/cleanup.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "image/digest.h"

namespace berth::image {
namespace {

class FileWriter : public ContentStore::Writer {
 public:
  FileWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Status Write(const char* data, size_t size) override {
    hasher_.Update(data, size);
    written_ += static_cast<int64_t>(size);
    while (size > 0) {
      ssize_t n = ::write(fd_, data, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError(absl::StrCat("write ", path_));
      }
      data += n;
      size -= static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }
  void Reset() override {
    (void)::ftruncate(fd_, 0);
    (void)::lseek(fd_, 0, SEEK_SET);
    hasher_ = Sha256();
    written_ = 0;
  }
  std::string Digest() { return hasher_.Finish(); }
  int64_t written() const { return written_; }

 private:
  int fd_;
  std::string path_;
  Sha256 hasher_;
  int64_t written_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<ContentStore>> ContentStore::Open(const std::string& dir) {
  RETURN_IF_ERROR(MakeDirs(dir + "/blobs/sha256", 0700));
  // Partial downloads from before a crash or restart are worthless.
  RETURN_IF_ERROR(RemoveAll(dir + "/ingest"));
  RETURN_IF_ERROR(MakeDirs(dir + "/ingest", 0700));
  return std::unique_ptr<ContentStore>(new ContentStore(dir));
}

std::string ContentStore::BlobPath(absl::string_view digest) const {
  return absl::StrCat(dir_, "/blobs/sha256/", DigestHex(digest));
}

bool ContentStore::Has(absl::string_view digest) const {
  if (!ValidateDigest(digest).ok()) return false;
  struct stat st;
  return ::stat(BlobPath(digest).c_str(), &st) == 0;
}

StatusOr<std::string> ContentStore::Read(absl::string_view digest, size_t max_bytes) const {
  RETURN_IF_ERROR(ValidateDigest(digest));
  struct stat st;
  std::string path = BlobPath(digest);
  if (::stat(path.c_str(), &st) != 0) return ErrnoError(absl::StrCat("blob ", digest));
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("blob ", digest, " is larger than ", max_bytes, " bytes"));
  }
  return ReadFile(path);
}

Status ContentStore::Ingest(absl::string_view digest_view, int64_t size, const FillFn& fill) {
  std::string digest(digest_view);
  RETURN_IF_ERROR(ValidateDigest(digest));
  return ingests_.Do(digest, [&] { return Has(digest) ? absl::OkStatus() : IngestNow(digest, size, fill); });
}

Status ContentStore::IngestNow(const std::string& digest, int64_t size, const FillFn& fill) {
  std::string tmp = absl::StrCat(dir_, "/ingest/", DigestHex(digest), "-XXXXXX");
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("create ", tmp));
  bool kept = false;
  absl::Cleanup remove_tmp = [&] {
    if (!kept) ::unlink(tmp.c_str());
  };
  FileWriter writer(fd.get(), tmp);
  RETURN_IF_ERROR(fill(writer));
  if (writer.written() != size) {
    return absl::DataLossError(absl::StrCat("blob ", digest, ": wrote ", writer.written(),
                                            " bytes, expected ", size));
  }
  std::string actual = writer.Digest();
  if (actual != digest) {
    return absl::DataLossError(absl::StrCat("blob ", digest, " has digest ", actual));
  }
  if (::fchmod(fd.get(), 0644) != 0) return ErrnoError(absl::StrCat("chmod ", tmp));
  if (::fsync(fd.get()) != 0) return ErrnoError(absl::StrCat("fsync ", tmp));
  std::string path = BlobPath(digest);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError(absl::StrCat("rename to ", path));
  kept = true;
  return absl::OkStatus();
}

Status ContentStore::Put(absl::string_view digest, absl::string_view data) {
  return Ingest(digest, static_cast<int64_t>(data.size()),
                [&](Writer& writer) { return writer.Write(data.data(), data.size()); });
}

Status ContentStore::Delete(absl::string_view digest) {
  RETURN_IF_ERROR(ValidateDigest(digest));
  if (::unlink(BlobPath(digest).c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(absl::StrCat("remove blob ", digest));
  }
  return absl::OkStatus();
}

}  // namespace berth::image
