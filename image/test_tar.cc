#include "image/test_tar.h"

#include <archive.h>

#include "image/digest.h"

namespace berth::image::testing {

std::string BuildTar(const std::vector<Entry>& entries, Compress compress, std::string* diff_id) {
  auto write = [&](bool compressed) {
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (compressed && compress == Compress::kGzip) archive_write_add_filter_gzip(a);
    if (compressed && compress == Compress::kZstd) archive_write_add_filter_zstd(a);
    archive_write_set_bytes_in_last_block(a, 1);
    std::string out;
    archive_write_open(
        a, &out, nullptr,
        [](struct archive*, void* user, const void* buf, size_t n) -> la_ssize_t {
          static_cast<std::string*>(user)->append(static_cast<const char*>(buf), n);
          return static_cast<la_ssize_t>(n);
        },
        nullptr);
    for (const auto& e : entries) {
      struct archive_entry* ae = archive_entry_new();
      archive_entry_set_pathname(ae, e.name.c_str());
      archive_entry_set_perm(ae, e.perm);
      archive_entry_set_uid(ae, e.uid);
      archive_entry_set_gid(ae, e.gid);
      archive_entry_set_mtime(ae, 1546300800, 0);
      if (!e.hardlink.empty()) {
        archive_entry_set_hardlink(ae, e.hardlink.c_str());
        archive_entry_set_size(ae, 0);
      } else {
        archive_entry_set_filetype(ae, e.type);
        if (e.type == AE_IFLNK) archive_entry_set_symlink(ae, e.symlink.c_str());
        if (e.type == AE_IFCHR || e.type == AE_IFBLK) archive_entry_set_rdev(ae, e.dev);
        archive_entry_set_size(ae, e.type == AE_IFREG ? static_cast<la_int64_t>(e.content.size()) : 0);
      }
      for (const auto& [k, v] : e.xattrs) archive_entry_xattr_add_entry(ae, k.c_str(), v.data(), v.size());
      archive_write_header(a, ae);
      if (e.type == AE_IFREG && e.hardlink.empty()) archive_write_data(a, e.content.data(), e.content.size());
      archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
  };
  if (diff_id) *diff_id = Sha256Of(write(false));
  return write(true);
}

}  // namespace berth::image::testing
