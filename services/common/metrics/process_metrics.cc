#include "services/common/metrics/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "services/common/version.h"

namespace parley::metrics {
namespace {

// Fields of /proc/self/stat after the command name, so fields()[0] is the
// state (field 3 of proc(5)).
std::vector<std::string> StatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return {};
  return absl::StrSplit(line.substr(paren + 1), ' ', absl::SkipEmpty());
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory being read
}

void CollectProcess(std::deque<CollectedFamily>* out) {
  const std::vector<std::string> fields = StatFields();
  // proc(5) field n is fields[n - 3].
  auto field = [&fields](size_t n) -> double {
    return n >= 3 && n - 3 < fields.size() ? std::stod(fields[n - 3]) : 0;
  };
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  static const double boot = BootTimeSeconds();
  AddCollected(out, "process_cpu_seconds_total",
               "user and system CPU time spent, in seconds",
               MetricType::kCounter)
      .Add({}, (field(14) + field(15)) / ticks);
  AddCollected(out, "process_resident_memory_bytes",
               "resident memory size in bytes", MetricType::kGauge)
      .Add({}, field(24) * page);
  AddCollected(out, "process_virtual_memory_bytes",
               "virtual memory size in bytes", MetricType::kGauge)
      .Add({}, field(23));
  AddCollected(out, "process_start_time_seconds",
               "start time of the process since the Unix epoch, in seconds",
               MetricType::kGauge)
      .Add({}, boot + field(22) / ticks);
  AddCollected(out, "process_open_fds", "open file descriptors",
               MetricType::kGauge)
      .Add({}, OpenFds());
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    AddCollected(out, "process_max_fds", "limit of open file descriptors",
                 MetricType::kGauge)
        .Add({}, static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace

void RegisterProcessMetrics(Registry* registry, absl::string_view role) {
  static std::once_flag once;
  std::call_once(once, [registry, role] {
    registry
        ->AddGaugeFamily("parley_build_info",
                         "always 1: the Parley version and role of this "
                         "process",
                         {"version", "api_version", "role"})
        ->WithLabels({kParleyVersion, kParleyApiVersion, std::string(role)})
        ->Set(1);
    // Registered for the life of the process.
    static CollectorHandle* const handle =
        new CollectorHandle(registry->AddCollector(&CollectProcess));
    (void)handle;
  });
}

}  // namespace parley::metrics
