#include "absl/strings/numbers.h"
#include "cri/handlers.h"
#include "cri/stream_batches.h"

namespace berth::cri {
namespace {

// The images a filter selects: all, or the one its image spec names.
StatusOr<std::vector<image::ImageRecord>> Select(pods::Node& node, const ::runtime::v1::ImageFilter& filter) {
  const std::string& wanted = filter.image().image();
  if (wanted.empty()) return node.images().List();
  auto found = node.images().Find(wanted);
  if (found.ok()) return std::vector<image::ImageRecord>{*found};
  if (found.status().code() == StatusCode::kNotFound) return std::vector<image::ImageRecord>{};
  return found.status();
}

}  // namespace

void FillImage(const image::ImageRecord& record, ::runtime::v1::Image* out) {
  out->set_id(record.id);
  for (const auto& tag : record.repo_tags) out->add_repo_tags(tag);
  for (const auto& digest : record.repo_digests) out->add_repo_digests(digest);
  out->set_size(static_cast<uint64_t>(record.size));
  // USER is "user", "uid", "user:group" or "uid:gid": CRI wants the user part, as a
  // uid when it is numeric and as a name otherwise.
  std::string user = record.config.user.substr(0, record.config.user.find(':'));
  int64_t uid = 0;
  if (!user.empty() && absl::SimpleAtoi(user, &uid)) {
    out->mutable_uid()->set_value(uid);
  } else if (!user.empty()) {
    out->set_username(user);
  }
  out->mutable_spec()->set_image(record.id);
  out->set_pinned(record.pinned);
}

Status HandleListImages(pods::Node& node, const ::runtime::v1::ListImagesRequest& request,
                        ::runtime::v1::ListImagesResponse* response) {
  ASSIGN_OR_RETURN(auto images, Select(node, request.filter()));
  for (const auto& record : images) FillImage(record, response->add_images());
  return absl::OkStatus();
}

Status HandleStreamImages(pods::Node& node, const ::runtime::v1::StreamImagesRequest& request,
                          grpc::ServerWriter<::runtime::v1::StreamImagesResponse>* writer) {
  ASSIGN_OR_RETURN(auto images, Select(node, request.filter()));
  return WriteInBatches(images, writer, "StreamImages",
                        [](const auto& image, auto& batch) { FillImage(image, batch.add_images()); });
}

}  // namespace berth::cri
