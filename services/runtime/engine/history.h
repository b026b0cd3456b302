#ifndef PARLEY_SERVICES_RUNTIME_ENGINE_HISTORY_H_
#define PARLEY_SERVICES_RUNTIME_ENGINE_HISTORY_H_

#include <functional>

#include "proto/parley/v1/history.pb.h"

namespace parley::engine {

// Receives the contact and response history records PostEvent logs (every
// field of v1::HistoryRecord filled: kind, session, channel, audience level
// and ID text, offer, treatment code, event time, interaction point and the
// session's persistent parameters after the event's own were merged), once
// the session change that produced them is stored. Called without engine
// locks held; may be called concurrently.
using HistorySink = std::function<void(const v1::HistoryRecord&)>;

}  // namespace parley::engine

#endif  // PARLEY_SERVICES_RUNTIME_ENGINE_HISTORY_H_
