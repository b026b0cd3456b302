#include "fuzz/fuzz_support.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "fuzz/demo_channel_json.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/runtime/channel/channel.h"
#include "spdlog/spdlog.h"

namespace parley::fuzz {

void CheckFailed(const char* file, int line, const char* condition,
                 absl::string_view what) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s: %.*s\n", file, line,
               condition, static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  abort();
}

bool KnownIssueTolerated(absl::string_view id) {
  const char* tolerated = getenv("PARLEY_FUZZ_KNOWN_ISSUES");
  if (tolerated == nullptr) return false;
  for (absl::string_view entry : absl::StrSplit(tolerated, ',')) {
    if (entry == "all" || entry == id) return true;
  }
  return false;
}

bool IsUtf8(absl::string_view text) {
  return google::protobuf::internal::IsStructurallyValidUTF8(
      text.data(), static_cast<int>(text.size()));
}

bool ParseInput(const uint8_t* data, size_t size,
                google::protobuf::Message* message) {
  if (size > static_cast<size_t>(INT32_MAX)) return false;
  return message->ParseFromArray(data, static_cast<int>(size));
}

const v1::InteractiveChannel& DemoChannel() {
  static const v1::InteractiveChannel* const channel = [] {
    auto* parsed = new v1::InteractiveChannel();
    const auto status =
        google::protobuf::util::JsonStringToMessage(kDemoChannelJson, parsed);
    PARLEY_FUZZ_CHECK(status.ok(), std::string(status.message()));
    return parsed;
  }();
  return *channel;
}

std::shared_ptr<const channel::CompiledChannel> CompiledDemoChannel() {
  static const auto* const compiled =
      new std::shared_ptr<const channel::CompiledChannel>([] {
        absl::StatusOr<std::shared_ptr<const channel::CompiledChannel>> result =
            channel::CompileChannel(DemoChannel());
        PARLEY_FUZZ_CHECK(result.ok(), result.status().ToString());
        return *std::move(result);
      }());
  return *compiled;
}

bool RoundTrips(const google::protobuf::Message& message) {
  std::string bytes;
  if (!message.SerializeToString(&bytes)) return false;
  std::unique_ptr<google::protobuf::Message> back(message.New());
  if (!back->ParseFromString(bytes)) return false;
  return google::protobuf::util::MessageDifferencer::Equals(message, *back);
}

namespace {

std::string ScratchRoot() {
  if (const char* root = getenv("PARLEY_FUZZ_TMPDIR"); root && *root) {
    return root;
  }
  std::error_code error;
  if (std::filesystem::is_directory("/dev/shm", error) &&
      access("/dev/shm", W_OK) == 0) {
    return "/dev/shm";
  }
  if (const char* tmp = getenv("TMPDIR"); tmp && *tmp) return tmp;
  return "/tmp";
}

}  // namespace

ScratchDir::ScratchDir(absl::string_view label) {
  std::string pattern =
      absl::StrCat(ScratchRoot(), "/parley-fuzz-", label, "-XXXXXX");
  PARLEY_FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr,
                    absl::StrCat("mkdtemp ", pattern));
  path_ = std::move(pattern);
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void QuietLogs() {
  spdlog::set_level(spdlog::level::off);
  // Protobuf logs every string that is not UTF-8 it parses or serializes;
  // the targets check such strings themselves.
  google::protobuf::SetLogHandler(nullptr);
}

namespace {
// Every target starts quiet.
const bool kQuiet = (QuietLogs(), true);
}  // namespace

}  // namespace parley::fuzz
