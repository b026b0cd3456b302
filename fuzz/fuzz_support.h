#ifndef PARLEY_FUZZ_FUZZ_SUPPORT_H_
#define PARLEY_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "proto/parley/v1/channel.pb.h"
#include "services/runtime/channel/compiled_channel.h"

// Helpers shared by the fuzz targets in fuzz/.
namespace parley::fuzz {

// Fails the fuzz run (abort, so libFuzzer saves the input as a crash) when
// `condition` is false: the property checks the targets make beyond "no
// sanitizer error".
#define PARLEY_FUZZ_CHECK(condition, what)                                 \
  do {                                                                     \
    if (!(condition)) {                                                    \
      ::parley::fuzz::CheckFailed(__FILE__, __LINE__, #condition, (what)); \
    }                                                                      \
  } while (false)

[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              absl::string_view what);

// The fuzz input as text.
inline absl::string_view AsText(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// Whether this run tolerates the open bug `id` (fuzz/regressions/README.md
// lists them): PARLEY_FUZZ_KNOWN_ISSUES holds tolerated ids, separated by
// commas, or "all". fuzz/run_fuzzers.sh sets "all" for --smoke and --long,
// so a known bug does not hide new ones, and nothing for --regressions.
// Unset (a reproducer run by hand), every check is strict.
bool KnownIssueTolerated(absl::string_view id);

// Whether `text` is well-formed UTF-8, as protobuf requires of string
// fields (a client cannot parse a message whose strings are not).
bool IsUtf8(absl::string_view text);

// Parses a serialized message of the fuzz input; false when it does not
// parse (the input is then skipped).
bool ParseInput(const uint8_t* data, size_t size,
                google::protobuf::Message* message);

// The local cluster's demo channel (deploy/demo/demo_channel.json, built
// in), parsed once.
const v1::InteractiveChannel& DemoChannel();

// The demo channel compiled once.
std::shared_ptr<const channel::CompiledChannel> CompiledDemoChannel();

// Whether `message` survives serialization: serializing and parsing back
// gives an equal message (fails for text that is not UTF-8, which clients
// cannot parse).
bool RoundTrips(const google::protobuf::Message& message);

// A fresh directory for one input's state, removed with everything in it
// when destroyed. Under $PARLEY_FUZZ_TMPDIR, else /dev/shm when present (the
// RocksDB-backed targets open a database per input), else $TMPDIR or /tmp.
class ScratchDir {
 public:
  explicit ScratchDir(absl::string_view label);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Turns off the services' log output (spdlog) and protobuf's, which would
// otherwise cost more than the code under test. Done before main().
void QuietLogs();

}  // namespace parley::fuzz

#endif  // PARLEY_FUZZ_FUZZ_SUPPORT_H_
