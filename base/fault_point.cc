#include "base/fault_point.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace berth {
namespace {

// Read before main: the environment does not change under a running berthd.
const char* const armed_point = std::getenv(kFaultPointVariable);

}  // namespace

void FaultPoint(const char* name) {
  if (armed_point == nullptr || std::strcmp(name, armed_point) != 0) return;
  std::string line = std::string("fault point ") + name + " reached: SIGKILL\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  // The whole process, every thread at once, with no handler or destructor run.
  ::kill(::getpid(), SIGKILL);
  for (;;) ::pause();
}

}  // namespace berth
