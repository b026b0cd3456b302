#include "tests/fault/workload.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"

namespace parley::fault {

v1::StartSessionRequest StartRequest(const std::string& session, int customer) {
  v1::StartSessionRequest request;
  request.set_session_id(session);
  request.set_interactive_channel("demo");
  request.set_audience_level("Customer");
  v1::NameValue* id = request.add_audience_id();
  id->set_name("CustomerID");
  id->set_number_value(customer);
  return request;
}

v1::GetOffersRequest OffersRequest(const std::string& session) {
  v1::GetOffersRequest request;
  request.set_session_id(session);
  request.set_interaction_point("HomePageHero");
  request.set_number_requested(3);
  return request;
}

v1::PostEventRequest EventRequest(const std::string& session,
                                  const std::string& name,
                                  const std::string& tracking_code) {
  v1::PostEventRequest request;
  request.set_session_id(session);
  request.set_event_name(name);
  if (!tracking_code.empty()) {
    v1::NameValue* code = request.add_parameters();
    code->set_name("UACIOfferTrackingCode");
    code->set_string_value(tracking_code);
  }
  return request;
}

std::unique_ptr<v1::InteractRuntime::Stub> RuntimeStub(
    const std::string& address) {
  return v1::InteractRuntime::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

SessionLoad::SessionLoad(std::vector<std::string> servers,
                         std::vector<std::string> sessions, int threads,
                         int post_every)
    : servers_(std::move(servers)),
      sessions_(std::move(sessions)),
      post_every_(post_every) {
  for (const std::string& server : servers_) {
    stubs_.push_back(RuntimeStub(server));
  }
  for (int t = 0; t < threads; ++t) {
    threads_.emplace_back([this, t] { Run(t); });
  }
}

void SessionLoad::Stop() {
  stop_ = true;
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

std::string SessionLoad::FailureSamples() {
  absl::MutexLock lock(&mu_);
  return absl::StrJoin(samples_, "\n");
}

void SessionLoad::Run(int t) {
  for (int i = t; !stop_; ++i) {
    const std::string& session = sessions_[i % sessions_.size()];
    const size_t s = (i / sessions_.size() + t) % stubs_.size();
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    grpc::Status status;
    v1::ResponseStatus answer = v1::SUCCESS;
    std::string what;
    if (post_every_ > 0 && i % post_every_ == 0) {
      v1::PostEventResponse response;
      status = stubs_[s]->PostEvent(
          &context, EventRequest(session, "OfferShown"), &response);
      answer = response.status();
      what = absl::StrCat("PostEvent ", session, " on ", servers_[s], ": ",
                          response.ShortDebugString());
    } else {
      v1::GetOffersResponse response;
      status =
          stubs_[s]->GetOffers(&context, OffersRequest(session), &response);
      answer = response.status();
      what = absl::StrCat("GetOffers ", session, " on ", servers_[s], ": ",
                          response.ShortDebugString());
    }
    ++calls_;
    if (!status.ok() || answer == v1::ERROR) {
      ++failures_;
      absl::MutexLock lock(&mu_);
      if (samples_.size() < 5) {
        samples_.push_back(absl::StrCat(absl::FormatTime(absl::Now()), " ",
                                        what, " grpc=", status.error_code(),
                                        " ", status.error_message()));
      }
    }
  }
}

}  // namespace parley::fault
