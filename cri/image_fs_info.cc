#include <chrono>

#include "cri/handlers.h"

namespace berth::cri {
namespace {

void Fill(const pods::Node::FilesystemUsage& measured, int64_t now_ns,
          ::runtime::v1::FilesystemUsage* out) {
  out->set_timestamp(now_ns);
  out->mutable_fs_id()->set_mountpoint(measured.mountpoint);
  out->mutable_used_bytes()->set_value(measured.usage.bytes);
  out->mutable_inodes_used()->set_value(measured.usage.inodes);
}

}  // namespace

Status HandleImageFsInfo(pods::Node& node, const ::runtime::v1::ImageFsInfoRequest& /*request*/,
                         ::runtime::v1::ImageFsInfoResponse* response) {
  int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  ASSIGN_OR_RETURN(auto images, node.ImageFilesystemUsage());
  ASSIGN_OR_RETURN(auto containers, node.ContainerFilesystemUsage());
  Fill(images, now_ns, response->add_image_filesystems());
  Fill(containers, now_ns, response->add_container_filesystems());
  return absl::OkStatus();
}

}  // namespace berth::cri
