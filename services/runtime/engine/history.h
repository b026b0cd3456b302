#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_HISTORY_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_HISTORY_H_

#include <cstdint>
#include <functional>
#include <string>

namespace parley::engine {

// One contact or response history row, as PostEvent logs it.
struct HistoryRecord {
  // What happened to the offer.
  enum class Kind { kContact, kAcceptance, kRejection };

  Kind kind = Kind::kContact;
  std::string session_id;
  std::string audience_level;
  // The audience ID as text, e.g. "CustomerID=42".
  std::string audience_id;
  // The offer's name.
  std::string offer;
  std::string treatment_code;
  // When the event was posted, milliseconds since the Unix epoch.
  int64_t time_millis = 0;
};

// Receives history records once the session change that produced them is
// stored. Called without engine locks held; may be called concurrently.
using HistorySink = std::function<void(const HistoryRecord&)>;

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_HISTORY_H_
