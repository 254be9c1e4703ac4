#include "runtime/hooks.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/process.h"

namespace berth::runtime {
namespace {

// No timeout means none in the spec; a day stands in for "forever" in RunProcess.
constexpr std::chrono::hours kNoTimeout(24);
// What a failing hook said, kept for its error message.
constexpr size_t kHookOutputLimit = 4096;

Status RunHook(const Hook& hook, absl::string_view what, const std::string& state_json) {
  RunOptions options;
  options.executable = hook.path;
  options.env = hook.env;
  options.stdin_data = state_json;
  options.max_output = kHookOutputLimit;
  // Nothing of the runtime's or the container's (fds passed to it) reaches a hook.
  options.close_other_fds = true;
  if (hook.timeout) options.timeout = std::chrono::seconds(*hook.timeout);
  else options.timeout = kNoTimeout;
  std::vector<std::string> argv = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  auto run = RunProcess(argv, options);
  if (!run.ok()) return Annotate(run.status(), absl::StrCat(what, " hook ", hook.path));
  if (run->timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(what, " hook ", hook.path, " did not finish within ",
                                                    hook.timeout ? absl::StrCat("its timeout of ", *hook.timeout, " s")
                                                                 : std::string("a day")));
  }
  if (run->exit_code != 0) {
    std::string said(absl::StripAsciiWhitespace(run->err.empty() ? run->out : run->err));
    return absl::FailedPreconditionError(absl::StrCat(what, " hook ", hook.path, " failed with exit code ",
                                                      run->exit_code, said.empty() ? "" : ": ", said));
  }
  return absl::OkStatus();
}

}  // namespace

bool Hooks::empty() const {
  return prestart.empty() && create_runtime.empty() && create_container.empty() && start_container.empty() &&
         poststart.empty() && poststop.empty();
}

bool Hooks::BeforePivot() const { return !prestart.empty() || !create_runtime.empty() || !create_container.empty(); }

std::vector<std::string> HookKinds() {
  return {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
}

Status ValidateHooks(const Hooks& hooks) {
  for (const auto* list : {&hooks.prestart, &hooks.create_runtime, &hooks.create_container, &hooks.start_container,
                           &hooks.poststart, &hooks.poststop}) {
    for (const Hook& hook : *list) {
      if (!absl::StartsWith(hook.path, "/")) {
        return absl::InvalidArgumentError(absl::StrCat("hook path \"", hook.path, "\" is not absolute"));
      }
      if (hook.timeout && *hook.timeout <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("hook ", hook.path, ": timeout must be positive, not ", *hook.timeout));
      }
    }
  }
  return absl::OkStatus();
}

Status RunHooks(const std::vector<Hook>& hooks, absl::string_view what, const std::string& state_json) {
  for (const Hook& hook : hooks) RETURN_IF_ERROR(RunHook(hook, what, state_json));
  return absl::OkStatus();
}

}  // namespace berth::runtime
