#include "pods/nri_process_fields.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace berth::pods {
namespace {

namespace api = nri::api;

// The OCI name of an NRI enum value: its proto name without "NRI_".
template <typename Enum>
StatusOr<std::string> OciName(const std::string& (*name_of)(Enum), int value, absl::string_view field) {
  absl::string_view name = name_of(static_cast<Enum>(value));
  if (name.empty() || !absl::ConsumePrefix(&name, "NRI_")) {
    return absl::InvalidArgumentError(absl::StrCat("an NRI plugin sent ", value, " as ", field, ", which is no value"));
  }
  return std::string(name);
}

// Proto's generated Name() functions are templates; these pin the enum type.
const std::string& IoClassName(api::IOPrioClass value) { return api::IOPrioClass_Name(value); }
const std::string& PolicyName(api::LinuxSchedulerPolicy value) { return api::LinuxSchedulerPolicy_Name(value); }
const std::string& SchedulerFlagName(api::LinuxSchedulerFlag value) { return api::LinuxSchedulerFlag_Name(value); }
const std::string& MemoryModeName(api::MpolMode value) { return api::MpolMode_Name(value); }
const std::string& MemoryFlagName(api::MpolFlag value) { return api::MpolFlag_Name(value); }

std::vector<runtime::Hook> OciHookList(const google::protobuf::RepeatedPtrField<api::Hook>& hooks) {
  std::vector<runtime::Hook> list;
  for (const api::Hook& h : hooks) {
    runtime::Hook hook{h.path(), {h.args().begin(), h.args().end()}, {h.env().begin(), h.env().end()}, std::nullopt};
    if (h.has_timeout()) {
      hook.timeout = static_cast<int>(std::clamp<int64_t>(h.timeout().value(), std::numeric_limits<int>::min(),
                                                          std::numeric_limits<int>::max()));
    }
    list.push_back(std::move(hook));
  }
  return list;
}

void NriHookList(const std::vector<runtime::Hook>& hooks, google::protobuf::RepeatedPtrField<api::Hook>* out) {
  for (const runtime::Hook& h : hooks) {
    api::Hook* hook = out->Add();
    hook->set_path(h.path);
    for (const auto& arg : h.args) hook->add_args(arg);
    for (const auto& env : h.env) hook->add_env(env);
    if (h.timeout) hook->mutable_timeout()->set_value(*h.timeout);
  }
}

}  // namespace

void AppendNriHooks(const api::Hooks& from, runtime::Hooks* to) {
  auto append = [](std::vector<runtime::Hook>* list, std::vector<runtime::Hook> more) {
    list->insert(list->end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  };
  append(&to->prestart, OciHookList(from.prestart()));
  append(&to->create_runtime, OciHookList(from.create_runtime()));
  append(&to->create_container, OciHookList(from.create_container()));
  append(&to->start_container, OciHookList(from.start_container()));
  append(&to->poststart, OciHookList(from.poststart()));
  append(&to->poststop, OciHookList(from.poststop()));
}

void CopyOciHooks(const runtime::Hooks& from, api::Hooks* to) {
  NriHookList(from.prestart, to->mutable_prestart());
  NriHookList(from.create_runtime, to->mutable_create_runtime());
  NriHookList(from.create_container, to->mutable_create_container());
  NriHookList(from.start_container, to->mutable_start_container());
  NriHookList(from.poststart, to->mutable_poststart());
  NriHookList(from.poststop, to->mutable_poststop());
}

StatusOr<std::optional<runtime::IoPriority>> OciIoPriority(const api::LinuxIOPriority& priority) {
  if (priority.class_() == api::NRI_IOPRIO_CLASS_NONE) return std::optional<runtime::IoPriority>();
  ASSIGN_OR_RETURN(std::string io_class, OciName(IoClassName, priority.class_(), "an I/O priority class"));
  return std::optional<runtime::IoPriority>(runtime::IoPriority{io_class, priority.priority()});
}

StatusOr<std::optional<runtime::Scheduler>> OciScheduler(const api::LinuxScheduler& scheduler) {
  if (scheduler.policy() == api::NRI_SCHED_NONE) return std::optional<runtime::Scheduler>();
  runtime::Scheduler out;
  ASSIGN_OR_RETURN(out.policy, OciName(PolicyName, scheduler.policy(), "a scheduling policy"));
  for (int flag : scheduler.flags()) {
    ASSIGN_OR_RETURN(std::string name, OciName(SchedulerFlagName, flag, "a scheduler flag"));
    out.flags.push_back(std::move(name));
  }
  out.nice = scheduler.nice();
  out.priority = scheduler.priority();
  out.runtime = scheduler.runtime();
  out.deadline = scheduler.deadline();
  out.period = scheduler.period();
  return std::optional<runtime::Scheduler>(std::move(out));
}

StatusOr<runtime::MemoryPolicy> OciMemoryPolicy(const api::LinuxMemoryPolicy& policy) {
  runtime::MemoryPolicy out;
  ASSIGN_OR_RETURN(out.mode, OciName(MemoryModeName, policy.mode(), "a memory policy mode"));
  out.nodes = policy.nodes();
  for (int flag : policy.flags()) {
    ASSIGN_OR_RETURN(std::string name, OciName(MemoryFlagName, flag, "a memory policy flag"));
    out.flags.push_back(std::move(name));
  }
  return out;
}

}  // namespace berth::pods
